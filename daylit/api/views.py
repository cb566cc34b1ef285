from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from daylit import selectors, services
from daylit.api.base import CompanyScopedAPIView
from daylit.api.query import list_schema
from daylit.api.serializers import (
    CompanySettingsSerializer,
    CustomerFilters,
    CustomerSerializer,
    InvoiceFilters,
    InvoiceSerializer,
)
from daylit.models import MAX_HOURS_BETWEEN_EMAILS, MAX_PROMISE_GRACE_DAYS, Customer, Invoice

DUPLICATE_NUMBER = OpenApiResponse(
    description="`code` `duplicate_number`: another invoice of this company already has this `number`."
)
DUE_DATE_CONFLICT = OpenApiResponse(
    description="`code` `duplicate_number`: another invoice of this company already has this `number`; "
    "`cannot_plan`: the new `due_date` is one no send time can be planned from for the `invoice_due` "
    "enrollments chasing this invoice (a date within days of 9999-12-31). Nothing changes."
)
ADMIN_ONLY = OpenApiResponse(
    description="`code` `admin_only`: only a company admin may change the company settings (they apply "
    "to every sequence and customer of the company); every member may read them."
)
CALENDAR_CODES = (
    "The calendar fields: `timezone` an IANA name (`Europe/London`), `country` an upper-case ISO 3166-1 "
    "alpha-2 code the holiday calendar covers (`GB`, not `UK` or `gb`), `subdivision` a code that "
    "calendar knows for that country (`ENG` in `GB`, `BY` in `DE`, `CA` in `US`, `NSW` in `AU`), which "
    'needs a country. null means none; `""` is a 400, as for every field that takes null for none. Any '
    "other value is a 400 naming the field (an unknown subdivision's message lists valid ones)."
)
EXAMPLE_MEMBER_ID = "5b0e7c1e-3f4a-4d2b-9a41-6c8f0d2e7b13"
EXAMPLE_CUSTOMER_ID = "0f8d6a52-9c1e-4b7f-8e23-41d5a9c07e6b"


class CustomerListCreateView(CompanyScopedAPIView):
    serializer_class = CustomerSerializer

    @list_schema(
        CustomerSerializer,
        CustomerFilters,
        summary="List customers",
        description="The company's customers, newest first. `search` matches a substring of the name in "
        "any case; `ar_owner_id` keeps the customers owned by that member.",
    )
    def get(self, request, company_id):
        filters = self.parse_query(CustomerFilters)
        return self.paginated(
            selectors.customer_list(company=self.company, filters=filters), CustomerSerializer
        )

    @extend_schema(
        summary="Create a customer",
        description="Adds a customer to the company; any member may. `email` is where reminders go (a "
        "customer without one can be enrolled, but its reminders wait in the queue until a person sets "
        "`to_email`). `ar_owner_id`, optional, is the member who owns the account; a member id of another "
        "company is a 400 (`does not exist`). `timezone`, `country` and `subdivision`, all optional, are the "
        "customer's own calendar: sequences with `time_zone_source` `customer` plan in its `timezone`, and "
        "`skip_holidays` skips the public holidays of its `country`/`subdivision` (else the company's "
        "settings). " + CALENDAR_CODES + " Not idempotent: every call creates a customer.",
        request=CustomerSerializer,
        responses={201: CustomerSerializer},
        examples=[
            OpenApiExample(
                "Customer with an owner",
                value={
                    "name": "Acme Corp",
                    "email": "ap@acme.example",
                    "ar_owner_id": EXAMPLE_MEMBER_ID,
                    "timezone": "Europe/London",
                    "country": "GB",
                    "subdivision": "ENG",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, company_id):
        data = self.parse_body(CustomerSerializer)
        customer = services.customer_create(company=self.company, **data)
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetailView(CompanyScopedAPIView):
    serializer_class = CustomerSerializer

    def get_object(self):
        return get_object_or_404(Customer, pk=self.kwargs["customer_id"], company=self.company)

    @extend_schema(
        summary="Get a customer",
        description="One customer of the company; a customer of another company is a 404.",
        responses={200: CustomerSerializer},
    )
    def get(self, request, company_id, customer_id):
        return Response(CustomerSerializer(self.get_object()).data)

    @extend_schema(
        summary="Update a customer",
        description="Changes any of `name`, `email`, `ar_owner_id` (null: unassigned), `timezone`, "
        "`country` and `subdivision`; fields left out keep their values, and sending the same values again "
        "changes nothing. Any member may. A new `email` applies to reminders rendered from now on: rows "
        "already `ready` keep the `to_email` they were rendered with. A new owner shows at once in the "
        "queue's `ar_owner` filter. " + CALENDAR_CODES + " The pair is checked with the stored values: a "
        "`country` that the current `subdivision` does not belong to is a 400 on `subdivision` unless the "
        "same PATCH sends a new `subdivision` (or null).",
        responses={200: CustomerSerializer},
    )
    def patch(self, request, company_id, customer_id):
        customer = self.get_object()
        data = self.parse_body(CustomerSerializer, instance=customer, partial=True)
        customer = services.customer_update(customer=customer, data=data)
        return Response(CustomerSerializer(customer).data)


class CompanySettingsView(CompanyScopedAPIView):
    serializer_class = CompanySettingsSerializer

    @extend_schema(
        summary="Get the company settings",
        description="The company's collections settings; every member may read them. `country` and "
        "`subdivision` are the fallback holiday calendar: sequences with `skip_holidays` skip the public "
        "holidays of a customer's own `country`/`subdivision`, and of these for customers with none (null: "
        f"no holidays). `promise_grace_days` (0..{MAX_PROMISE_GRACE_DAYS}, default 2) is how many days "
        "after its promised date an unpaid promise to pay counts as broken. `min_hours_between_emails` "
        f"(0..{MAX_HOURS_BETWEEN_EMAILS}, default 0 = off): auto-send waits until that many hours after the "
        "last email sent to the customer from any sequence.",
        responses={200: CompanySettingsSerializer},
    )
    def get(self, request, company_id):
        return Response(CompanySettingsSerializer(self.company).data)

    @extend_schema(
        summary="Change the company settings",
        description="Changes any of `country`, `subdivision`, `promise_grace_days` and "
        "`min_hours_between_emails`; fields left out keep their values, and sending the same values again "
        "changes nothing. Only a company admin may (403 `admin_only`, checked before the body). `country` "
        "is an upper-case ISO 3166-1 alpha-2 code the holiday calendar covers (`GB`, not `UK` or `gb`); "
        "`subdivision` a code it knows for that country (`ENG` in `GB`, `BY` in `DE`), which needs a "
        "country; the pair is checked with the stored values, so a new `country` that the current "
        "`subdivision` does not belong to is a 400 on `subdivision` unless the same PATCH sends a new one "
        f'(or null). null clears them; `""` is a 400. `promise_grace_days` is an integer 0..'
        f"{MAX_PROMISE_GRACE_DAYS} (days after a promised date before the promise is broken), "
        f"`min_hours_between_emails` an integer 0..{MAX_HOURS_BETWEEN_EMAILS} (hours auto-send waits after "
        "the last email sent to a customer; 0 turns it off; a person may still send sooner). Out of range "
        "or of another JSON type is a 400 naming the field.",
        request=CompanySettingsSerializer,
        responses={200: CompanySettingsSerializer, 403: ADMIN_ONLY},
        examples=[
            OpenApiExample(
                "England's holidays, a 3-day grace, a day between emails",
                value={
                    "country": "GB",
                    "subdivision": "ENG",
                    "promise_grace_days": 3,
                    "min_hours_between_emails": 24,
                },
                request_only=True,
            )
        ],
    )
    def patch(self, request, company_id):
        services.company_settings_authorize(member=self.member)
        data = self.parse_body(CompanySettingsSerializer, instance=self.company, partial=True)
        company = services.company_settings_update(company=self.company, data=data)
        return Response(CompanySettingsSerializer(company).data)


class InvoiceListCreateView(CompanyScopedAPIView):
    serializer_class = InvoiceSerializer

    @list_schema(
        InvoiceSerializer,
        InvoiceFilters,
        summary="List invoices",
        description="The company's invoices, by `due_date` (earliest first), then `number`. Filters: "
        "`customer_id`, and `status` as a comma list (`open,paid`).",
    )
    def get(self, request, company_id):
        filters = self.parse_query(InvoiceFilters)
        return self.paginated(
            selectors.invoice_list(company=self.company, filters=filters), InvoiceSerializer
        )

    @extend_schema(
        summary="Create an invoice",
        description="Adds an invoice for one of the company's customers; any member may. `amount_due` is a "
        'decimal string (`"1250.00"`; a JSON number is a 400), `currency` a 3-letter ISO 4217 code '
        "(default `USD`), `status` defaults to `open`; created `paid`, it gets `paid_at` now. `due_date` "
        "may not precede `issue_date` (400). Not idempotent: a second call with the same `number` is a 409.",
        request=InvoiceSerializer,
        responses={201: InvoiceSerializer, 409: DUPLICATE_NUMBER},
        examples=[
            OpenApiExample(
                "Open invoice",
                value={
                    "customer_id": EXAMPLE_CUSTOMER_ID,
                    "number": "INV-1042",
                    "currency": "USD",
                    "amount_due": "1250.00",
                    "issue_date": "2025-05-01",
                    "due_date": "2025-05-31",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, company_id):
        data = self.parse_body(InvoiceSerializer)
        invoice = services.invoice_create(company=self.company, **data)
        return Response(InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)


class InvoiceDetailView(CompanyScopedAPIView):
    serializer_class = InvoiceSerializer

    def get_object(self):
        return get_object_or_404(Invoice, pk=self.kwargs["invoice_id"], company=self.company)

    @extend_schema(
        summary="Get an invoice",
        description="One invoice of the company; an invoice of another company is a 404.",
        responses={200: InvoiceSerializer},
    )
    def get(self, request, company_id, invoice_id):
        return Response(InvoiceSerializer(self.get_object()).data)

    @extend_schema(
        summary="Update an invoice",
        description="Changes any writable field; fields left out keep their values. Any member may. An "
        "invoice never moves to another customer (`customer_id` 400). Setting `status` to `paid` stamps "
        "`paid_at` and, in the same transaction, completes (`stop_reason` `paid`) the customer's active "
        "enrollments for this invoice, or all of them when the customer has no open invoice left; their "
        "scheduled rows are cancelled. Marking an already paid invoice paid again changes nothing more. "
        "Moving away from `paid` clears `paid_at` (stopped enrollments stay completed); `void` stops no "
        "enrollment. A new `due_date` re-plans the scheduled rows of the active `invoice_due` enrollments "
        "on this invoice (docs/calendar.md).",
        responses={200: InvoiceSerializer, 409: DUE_DATE_CONFLICT},
    )
    def patch(self, request, company_id, invoice_id):
        invoice = self.get_object()
        data = self.parse_body(InvoiceSerializer, instance=invoice, partial=True)
        invoice = services.invoice_update(invoice=invoice, data=data)
        return Response(InvoiceSerializer(invoice).data)

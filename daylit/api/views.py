from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from daylit import selectors, services
from daylit.api.base import CompanyScopedAPIView
from daylit.api.query import list_schema
from daylit.api.serializers import CustomerFilters, CustomerSerializer, InvoiceFilters, InvoiceSerializer
from daylit.models import Customer, Invoice

DUPLICATE_NUMBER = OpenApiResponse(
    description="`code` `duplicate_number`: another invoice of this company already has this `number`."
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
        "company is a 400 (`does not exist`). Not idempotent: every call creates a customer.",
        request=CustomerSerializer,
        responses={201: CustomerSerializer},
        examples=[
            OpenApiExample(
                "Customer with an owner",
                value={"name": "Acme Corp", "email": "ap@acme.example", "ar_owner_id": EXAMPLE_MEMBER_ID},
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
        description="Changes any of `name`, `email` and `ar_owner_id` (null: unassigned); fields left out "
        "keep their values, and sending the same values again changes nothing. Any member may. A new "
        "`email` applies to reminders rendered from now on: rows already `ready` keep the `to_email` they "
        "were rendered with. A new owner shows at once in the queue's `ar_owner` filter.",
        responses={200: CustomerSerializer},
    )
    def patch(self, request, company_id, customer_id):
        customer = self.get_object()
        data = self.parse_body(CustomerSerializer, instance=customer, partial=True)
        customer = services.customer_update(customer=customer, data=data)
        return Response(CustomerSerializer(customer).data)


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
        "enrollment.",
        responses={200: InvoiceSerializer, 409: DUPLICATE_NUMBER},
    )
    def patch(self, request, company_id, invoice_id):
        invoice = self.get_object()
        data = self.parse_body(InvoiceSerializer, instance=invoice, partial=True)
        invoice = services.invoice_update(invoice=invoice, data=data)
        return Response(InvoiceSerializer(invoice).data)

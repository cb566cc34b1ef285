"""Promises to pay and disputes (SPEC "Pauses, promises to pay and disputes"): each view validates the
body, calls one service (daylit.promises, daylit.disputes) and answers the object."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from daylit import disputes, promises, selectors
from daylit.api.base import CompanyScopedAPIView
from daylit.api.promise_serializers import (
    DisputeCreateSerializer,
    DisputeFilters,
    DisputeResolveSerializer,
    DisputeSerializer,
    PromiseCreateSerializer,
    PromiseFilters,
    PromiseSerializer,
)
from daylit.api.query import list_schema
from daylit.models import Dispute, Invoice, Promise

INVOICE_NOT_OPEN = (
    "`code` `invoice_not_open`: the invoice is paid or void; only an open invoice takes a promise or a "
    "dispute."
)
PROMISE_RULES = (
    "`promised_date` is required: today (the UTC date) up to a year ahead. `amount`, a decimal string, "
    "is more than 0 and at most the invoice's `amount_due` (left out: `amount_due`); `note` is free text "
    "(at most 2,000 characters). A date or amount out of range is a 400 naming it."
)
PAUSE = (
    "It pauses every active enrollment of the customer that chases the invoice (its `invoice_id` is the "
    "invoice, or null) until 00:00 UTC of `promised_date` + the company's `promise_grace_days` + 1 day."
)


def _company_invoice(view, invoice_id) -> Invoice:
    return get_object_or_404(Invoice, pk=invoice_id, company=view.company)


class InvoicePromiseCreateView(CompanyScopedAPIView):
    serializer_class = PromiseSerializer

    @extend_schema(
        summary="Record a promise to pay",
        description="The customer promised to pay this open invoice by `promised_date`. "
        + PROMISE_RULES
        + " A new promise cancels the invoice's open one (`promise.cancelled`), so an invoice has at most "
        "one open promise. "
        + PAUSE
        + " Paid before then, the promise becomes `kept`; not paid by then, `broken` (within about a "
        "minute), and those enrollments resume. Not idempotent: every call records a new promise.",
        request=PromiseCreateSerializer,
        responses={201: PromiseSerializer, 409: OpenApiResponse(description=INVOICE_NOT_OPEN)},
        examples=[
            OpenApiExample(
                "Half now, by a date",
                value={"promised_date": "2026-12-15", "amount": "625.00", "note": "Promised on the phone"},
                request_only=True,
            )
        ],
    )
    def post(self, request, company_id, invoice_id):
        invoice = _company_invoice(self, invoice_id)
        data = self.parse_body(PromiseCreateSerializer)
        promise = promises.promise_create(
            invoice=invoice,
            promised_date=data["promised_date"],
            amount=data.get("amount"),
            note=data.get("note", ""),
        )
        return Response(PromiseSerializer(promise).data, status=status.HTTP_201_CREATED)


class PromiseListView(CompanyScopedAPIView):
    serializer_class = PromiseSerializer

    @list_schema(
        PromiseSerializer,
        PromiseFilters,
        summary="List promises to pay",
        description="The company's promises to pay, newest first. Filters: `status` as a comma list "
        "(`open,broken`), `customer_id`, `invoice_id`.",
    )
    def get(self, request, company_id):
        filters = self.parse_query(PromiseFilters)
        return self.paginated(
            selectors.promise_list(company=self.company, filters=filters), PromiseSerializer
        )


class PromiseDetailView(CompanyScopedAPIView):
    serializer_class = PromiseSerializer

    @extend_schema(
        summary="Get a promise to pay",
        description="One promise of the company; a promise of another company is a 404. `settled_at` is "
        "when it stopped being `open` (kept, broken or cancelled), else null.",
        responses={200: PromiseSerializer},
    )
    def get(self, request, company_id, promise_id):
        return Response(
            PromiseSerializer(get_object_or_404(Promise, pk=promise_id, company=self.company)).data
        )


class PromiseCancelView(CompanyScopedAPIView):
    serializer_class = PromiseSerializer

    @extend_schema(
        summary="Cancel a promise to pay",
        description="An open promise becomes `cancelled` (the customer withdrew it, or it was recorded by "
        "mistake), and the enrollments it paused resume. No body. A promise that is no longer open is a 409 "
        "`promise_not_open`.",
        request=None,
        responses={
            200: PromiseSerializer,
            409: OpenApiResponse(description="`code` `promise_not_open`: it is kept, broken or cancelled."),
        },
    )
    def post(self, request, company_id, promise_id):
        promise = get_object_or_404(Promise, pk=promise_id, company=self.company)
        return Response(PromiseSerializer(promises.promise_cancel(promise=promise)).data)


class InvoiceDisputeCreateView(CompanyScopedAPIView):
    serializer_class = DisputeSerializer

    @extend_schema(
        summary="Open a dispute",
        description="The customer disputes this open invoice, for a `reason` (`pricing`, `not_received`, "
        "`quality`, `duplicate`, `already_paid`, `other`) with an optional `note` (at most 2,000 "
        "characters). While the dispute is open the invoice is `disputed: true` and leaves `invoices` and "
        "`total_due` in every email rendered for the customer; the enrollments with this `invoice_id`, and "
        "those with none whose customer has no other open, undisputed invoice, are paused (no `until`, "
        "reason `dispute`). An invoice has at most one open dispute.",
        request=DisputeCreateSerializer,
        responses={
            201: DisputeSerializer,
            409: OpenApiResponse(
                description=INVOICE_NOT_OPEN + " `dispute_open`: the invoice has an open dispute already."
            ),
        },
        examples=[
            OpenApiExample(
                "Never received",
                value={"reason": "not_received", "note": "Goods never arrived at the Leeds site"},
                request_only=True,
            )
        ],
    )
    def post(self, request, company_id, invoice_id):
        invoice = _company_invoice(self, invoice_id)
        data = self.parse_body(DisputeCreateSerializer)
        dispute = disputes.dispute_open(invoice=invoice, reason=data["reason"], note=data.get("note", ""))
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)


class DisputeListView(CompanyScopedAPIView):
    serializer_class = DisputeSerializer

    @list_schema(
        DisputeSerializer,
        DisputeFilters,
        summary="List disputes",
        description="The company's disputes, newest first. Filters: `status` as a comma list "
        "(`open,resolved`), `customer_id`, `invoice_id`.",
    )
    def get(self, request, company_id):
        filters = self.parse_query(DisputeFilters)
        return self.paginated(
            selectors.dispute_list(company=self.company, filters=filters), DisputeSerializer
        )


class DisputeDetailView(CompanyScopedAPIView):
    serializer_class = DisputeSerializer

    @extend_schema(
        summary="Get a dispute",
        description="One dispute of the company; a dispute of another company is a 404. `resolution` and "
        "`resolved_at` are null while it is open.",
        responses={200: DisputeSerializer},
    )
    def get(self, request, company_id, dispute_id):
        return Response(
            DisputeSerializer(get_object_or_404(Dispute, pk=dispute_id, company=self.company)).data
        )


class DisputeResolveView(CompanyScopedAPIView):
    serializer_class = DisputeSerializer

    @extend_schema(
        summary="Resolve a dispute",
        description="Closes an open dispute with `resolution` `upheld` (the customer was right: the "
        "enrollments it paused complete, `stop_reason` `dispute_upheld`) or `rejected` (they resume), and an "
        "optional `note` (at most 2,000 characters), kept as `resolution_note`. The invoice is no longer "
        "`disputed`; an upheld dispute does not change the invoice's status (void or credit it yourself). "
        "A resolution is final: resolving again is a 409 `dispute_resolved`.",
        request=DisputeResolveSerializer,
        responses={
            200: DisputeSerializer,
            409: OpenApiResponse(description="`code` `dispute_resolved`: the dispute is resolved already."),
        },
        examples=[
            OpenApiExample(
                "Rejected",
                value={"resolution": "rejected", "note": "Delivery note signed on 3 Nov"},
                request_only=True,
            )
        ],
    )
    def post(self, request, company_id, dispute_id):
        dispute = get_object_or_404(Dispute, pk=dispute_id, company=self.company)
        data = self.parse_body(DisputeResolveSerializer)
        dispute = disputes.dispute_resolve(
            dispute=dispute, resolution=data["resolution"], note=data.get("note", "")
        )
        return Response(DisputeSerializer(dispute).data)

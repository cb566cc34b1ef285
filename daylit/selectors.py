"""Reads of the core app."""

from django.db.models import QuerySet, Value
from django.db.models.functions import Lower

from daylit.models import Company, Customer, Dispute, Invoice, Promise


def customer_list(*, company: Company, filters: dict) -> QuerySet[Customer]:
    """The company's customers, newest first; `search` is a name substring in any case, compared as
    PostgreSQL's lower() folds both sides (the rule of every search, the queue's included)."""
    qs = Customer.objects.filter(company=company)
    if filters.get("search"):
        qs = qs.filter(name_lower__contains=Lower(Value(filters["search"])))  # trigram index (queue.0005)
    if filters.get("ar_owner_id"):
        qs = qs.filter(ar_owner_id=filters["ar_owner_id"])
    return qs.order_by("-created_at", "id")


def invoice_list(*, company: Company, filters: dict) -> QuerySet[Invoice]:
    qs = Invoice.objects.filter(company=company)
    if filters.get("customer_id"):
        qs = qs.filter(customer_id=filters["customer_id"])
    if filters.get("status"):
        qs = qs.filter(status__in=filters["status"])
    return qs.order_by("due_date", "number", "id")


def open_invoices(*, customer: Customer) -> QuerySet[Invoice]:
    return Invoice.objects.filter(customer=customer, status=Invoice.Status.OPEN).order_by(
        "due_date", "number"
    )


def _filtered(qs: QuerySet, filters: dict) -> QuerySet:
    """`status` a list, `customer_id`, `invoice_id`: the filters promises and disputes share."""
    if filters.get("status"):
        qs = qs.filter(status__in=filters["status"])
    if filters.get("customer_id"):
        qs = qs.filter(customer_id=filters["customer_id"])
    if filters.get("invoice_id"):
        qs = qs.filter(invoice_id=filters["invoice_id"])
    return qs


def promise_list(*, company: Company, filters: dict) -> QuerySet[Promise]:
    """The company's promises to pay, newest first."""
    return _filtered(Promise.objects.filter(company=company), filters).order_by("-created_at", "id")


def dispute_list(*, company: Company, filters: dict) -> QuerySet[Dispute]:
    """The company's disputes, newest first."""
    return _filtered(Dispute.objects.filter(company=company), filters).order_by("-opened_at", "id")

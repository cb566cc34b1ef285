"""Reads of the core app."""

from django.db.models import QuerySet, Value
from django.db.models.functions import Lower

from daylit.models import Company, Customer, Invoice


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

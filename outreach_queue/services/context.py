"""The render context of queue rows, built in bulk: what templates and AI drafts are given.

One `RowContexts` serves a batch of rows read with `ROW_FIELDS`: a handful of queries for the whole
batch (senders, invoices), then `context_for(row)` in memory. Contexts hold plain data only.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db import connection as db_connection

from connections.models import EmailConnection
from daylit.models import Invoice, Promise
from enrollments.scheduling import local_today
from sequences.models import SequenceStep
from sequences.templating import build_context

ROW_FIELDS = (
    "id",
    "step_id",
    "step_type",
    "variant_key",
    "enrollment_id",
    "customer_id",
    "sequence__timezone",
    "sequence__sender_connection_id",
    "enrollment__invoice_id",
    "enrollment__start_date",
    "customer__name",
    "customer__email",
    "company__name",
)


@dataclass(frozen=True)
class VariantTemplates:
    """A variant's wording, rendered as a step's would be (render_step reads these three)."""

    key: str
    subject_template: str
    body_plain_template: str
    body_html_template: str


def variant_templates(step: SequenceStep, variant_key: str | None) -> VariantTemplates | None:
    """The templates of the variant a row was assigned, or None when it renders its step's own (no
    variant: no experiment, or a holdout-only step). ValueError when the step no longer has that key
    (the history lock keeps variants fixed once rows exist, so only a change behind the services' back).
    """
    if variant_key is None:
        return None
    for variant in step.variants:
        if isinstance(variant, dict) and variant.get("key") == variant_key:
            return VariantTemplates(
                key=variant_key,
                # (.get: a variant stored behind the services' back may lack a template; it renders
                # empty, or fails the row alone, rather than stalling every promotion pass.)
                subject_template=variant.get("subject_template", ""),
                body_plain_template=variant.get("body_plain_template", ""),
                body_html_template=variant.get("body_html_template", ""),
            )
    raise ValueError(f"the step has no variant '{variant_key}' any more")


class RowContexts:
    def __init__(self, rows: list[dict], *, now: datetime.datetime) -> None:
        self.now = now
        self.senders = sender_identities({row["sequence__sender_connection_id"] for row in rows} - {None})
        self.invoices_by_id, self.open_by_customer = invoices_for_rows(rows)
        self._today_by_zone: dict[str, datetime.date] = {}

    def today(self, zone: str) -> datetime.date:
        if zone not in self._today_by_zone:
            self._today_by_zone[zone] = local_today(zone, now=self.now)
        return self._today_by_zone[zone]

    def context_for(self, row: dict) -> dict:
        """The template context of one row; ValueError when its data cannot make one."""
        open_invoices = self.open_by_customer.get(row["customer_id"], [])
        invoice_id = row["enrollment__invoice_id"]
        invoice = self.invoices_by_id.get(invoice_id) if invoice_id else None
        if invoice is None and open_invoices:
            invoice = open_invoices[0]
        sender_name, sender_email = self.senders.get(row["sequence__sender_connection_id"], ("", ""))
        return build_context(
            company_name=row["company__name"],
            customer_name=row["customer__name"],
            customer_email=row["customer__email"] or "",
            invoice=invoice,
            open_invoices=open_invoices,
            sender_name=sender_name,
            sender_email=sender_email,
            enrollment_start_date=row["enrollment__start_date"],
            today=self.today(row["sequence__timezone"]),
            promise=invoice.get("promise") if invoice is not None else None,
        )


def sender_identities(connection_ids: Iterable[UUID]) -> dict[UUID, tuple[str, str]]:
    """Connection id -> (name, email); the name is the owning member's display name, else the email."""
    result = {}
    connections = EmailConnection.objects.filter(pk__in=list(connection_ids)).select_related("member__user")
    for conn in connections:
        name = conn.member.display_name if conn.member_id else ""
        result[conn.pk] = (name or conn.email, conn.email)
    return result


_INVOICE_COLUMNS = (
    "id",
    "customer_id",
    "number",
    "amount_due",
    "currency",
    "due_date",
    "status",
    "payment_url",
    "disputed",
    "promise_amount",
    "promised_date",
)


def invoices_for_rows(rows: list[dict]) -> tuple[dict[UUID, dict], dict[UUID, list[dict]]]:
    """Enrollment invoices by id, and every open, undisputed invoice per customer, oldest due first,
    each with its open promise to pay (`promise`: amount, promised_date, or None): one query.

    The ids go in as two array parameters (`= ANY(%s)`): an IN list of thousands of parameters costs
    more to build than the query takes to run. An invoice has at most one open promise
    (`daylit_promise_one_open_per_invoice`), so the join adds no rows.
    """
    enrollment_invoice_ids = list({row["enrollment__invoice_id"] for row in rows} - {None})
    customer_ids = list({row["customer_id"] for row in rows})
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT i.id, i.customer_id, i.number, i.amount_due, i.currency, i.due_date, i.status,
                       i.payment_url, i.disputed, p.amount, p.promised_date
                FROM {Invoice._meta.db_table} i
                LEFT JOIN {Promise._meta.db_table} p ON p.invoice_id = i.id AND p.status = 'open'
                WHERE (i.customer_id = ANY(%s) AND i.status = 'open') OR i.id = ANY(%s)
                ORDER BY i.customer_id, i.due_date, i.issue_date, i.created_at""",  # noqa: S608 (our names)
            [customer_ids, enrollment_invoice_ids],
        )
        found = [dict(zip(_INVOICE_COLUMNS, values, strict=True)) for values in cursor.fetchall()]
    for invoice in found:
        amount, promised_date = invoice.pop("promise_amount"), invoice.pop("promised_date")
        invoice["promise"] = None if amount is None else {"amount": amount, "promised_date": promised_date}
    by_id = {invoice["id"]: invoice for invoice in found}
    open_by_customer: dict[UUID, list[dict]] = defaultdict(list)
    for invoice in found:
        # SPEC: a disputed invoice leaves `invoices` and `total_due` of every email to the customer.
        if invoice["status"] == Invoice.Status.OPEN and not invoice["disputed"]:
            open_by_customer[invoice["customer_id"]].append(invoice)
    return by_id, open_by_customer

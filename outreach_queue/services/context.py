"""The render context of queue rows, built in bulk: what templates and AI drafts are given.

One `RowContexts` serves a batch of rows read with `ROW_FIELDS`: a handful of queries for the whole
batch (senders, invoices), then `context_for(row)` in memory. Contexts hold plain data only.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from uuid import UUID

from django.db import connection as db_connection

from connections.models import EmailConnection
from daylit.models import Invoice
from enrollments.scheduling import local_today
from sequences.templating import build_context

ROW_FIELDS = (
    "id",
    "step_id",
    "step_type",
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
        )


def sender_identities(connection_ids: Iterable[UUID]) -> dict[UUID, tuple[str, str]]:
    """Connection id -> (name, email); the name is the owning member's display name, else the email."""
    result = {}
    connections = EmailConnection.objects.filter(pk__in=list(connection_ids)).select_related("member__user")
    for conn in connections:
        name = conn.member.display_name if conn.member_id else ""
        result[conn.pk] = (name or conn.email, conn.email)
    return result


_INVOICE_COLUMNS = ("id", "customer_id", "number", "amount_due", "currency", "due_date", "status")


def invoices_for_rows(rows: list[dict]) -> tuple[dict[UUID, dict], dict[UUID, list[dict]]]:
    """Enrollment invoices by id, and every open invoice per customer, oldest due first: one query.

    The ids go in as two array parameters (`= ANY(%s)`): an IN list of thousands of parameters costs
    more to build than the query takes to run.
    """
    enrollment_invoice_ids = list({row["enrollment__invoice_id"] for row in rows} - {None})
    customer_ids = list({row["customer_id"] for row in rows})
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {", ".join(_INVOICE_COLUMNS)} FROM {Invoice._meta.db_table}
                WHERE (customer_id = ANY(%s) AND status = 'open') OR id = ANY(%s)
                ORDER BY customer_id, due_date, issue_date, created_at""",  # noqa: S608 (our names)
            [customer_ids, enrollment_invoice_ids],
        )
        found = [dict(zip(_INVOICE_COLUMNS, values, strict=True)) for values in cursor.fetchall()]
    by_id = {invoice["id"]: invoice for invoice in found}
    open_by_customer: dict[UUID, list[dict]] = defaultdict(list)
    for invoice in found:
        if invoice["status"] == Invoice.Status.OPEN:
            open_by_customer[invoice["customer_id"]].append(invoice)
    return by_id, open_by_customer

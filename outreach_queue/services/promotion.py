"""Promotion: `scheduled` rows whose time has come become `ready`, with their email rendered.

What a person reviews is what goes out, so a reminder's email is rendered here, once, and stored on
the row. The pass is set-based: each batch is one locking SELECT (FOR UPDATE SKIP LOCKED, so two
passes at once split the work instead of waiting or doing it twice), a handful of bulk reads for the
render context, and one UPDATE for the whole batch.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connections.models import EmailConnection
from daylit.models import Company, Invoice
from enrollments.models import Enrollment, ScheduledStep
from enrollments.services import enrollments_finish_if_done
from sequences.models import SequenceStep
from sequences.templating import TemplateRenderError, build_context, render_step

logger = logging.getLogger(__name__)

PROMOTION_BATCH_SIZE = 2_000
NO_RECIPIENT_WARNING = "The customer has no email address: set to_email before sending."

Status = ScheduledStep.Status

_ROW_FIELDS = (
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


def queue_rows_promote(
    *,
    company: Company | None = None,
    now: datetime.datetime | None = None,
    batch_size: int = PROMOTION_BATCH_SIZE,
) -> int:
    """Move every due `scheduled` row of an active enrollment to `ready` (or `failed` when it cannot
    render); only `company`'s rows when given. Returns how many rows it moved.

    Safe to run concurrently and repeatedly: rows are locked with SKIP LOCKED per batch and only rows
    still `scheduled` are selected, so each row is promoted by exactly one pass. Rows of completed
    enrollments stay `scheduled` (stopping cancels them anyway).
    """
    now = now or timezone.now()
    total = 0
    after = None
    while True:
        moved, failed_enrollments, after = _promote_batch(
            company=company, now=now, batch_size=batch_size, after=after
        )
        total += moved
        if failed_enrollments:
            enrollments_finish_if_done(enrollment_ids=failed_enrollments)
        if moved < batch_size:
            return total


def _promote_batch(
    *, company: Company | None, now: datetime.datetime, batch_size: int, after: tuple | None
) -> tuple[int, set[UUID], tuple | None]:
    """Promote one batch in (scheduled_for, id) order, starting past `after` (keyset), so later batches
    do not rescan the index entries of rows earlier batches already moved."""
    with transaction.atomic():
        due = ScheduledStep.objects.filter(
            status=Status.SCHEDULED, scheduled_for__lte=now, enrollment__status=Enrollment.Status.ACTIVE
        )
        if company is not None:
            due = due.filter(company=company)
        if after is not None:
            due = due.filter(Q(scheduled_for__gt=after[0]) | Q(scheduled_for=after[0], id__gt=after[1]))
        rows = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .order_by("scheduled_for", "id")
            .values("scheduled_for", *_ROW_FIELDS)[:batch_size]
        )
        if not rows:
            return 0, set(), after
        updates = _render_rows(rows, now=now)
        _write_updates(updates, now=now)
    failed = {
        row["enrollment_id"] for row, update in zip(rows, updates, strict=True) if update[1] == Status.FAILED
    }
    return len(rows), failed, (rows[-1]["scheduled_for"], rows[-1]["id"])


def _render_rows(rows: list[dict], *, now: datetime.datetime) -> list[tuple]:
    """(id, status, to_email, subject, body_plain, body_html, error) for every row, in order."""
    reminders = [row for row in rows if row["step_type"] == SequenceStep.StepType.REMINDER]
    steps = SequenceStep.objects.in_bulk({row["step_id"] for row in reminders})
    senders = _senders({row["sequence__sender_connection_id"] for row in reminders} - {None})
    invoices_by_id, open_by_customer = _invoices(reminders)
    today_by_zone: dict[str, datetime.date] = {}

    updates = []
    for row in rows:
        if row["step_type"] != SequenceStep.StepType.REMINDER:
            updates.append((row["id"], Status.READY, "", "", "", "", ""))
            continue
        zone = row["sequence__timezone"]
        if zone not in today_by_zone:
            today_by_zone[zone] = _local_today(zone, now)
        open_invoices = open_by_customer.get(row["customer_id"], [])
        invoice = invoices_by_id.get(row["enrollment__invoice_id"]) if row["enrollment__invoice_id"] else None
        if invoice is None and open_invoices:
            invoice = open_invoices[0]
        sender_name, sender_email = senders.get(row["sequence__sender_connection_id"], ("", ""))
        to_email = row["customer__email"] or ""
        try:
            context = build_context(
                company_name=row["company__name"],
                customer_name=row["customer__name"],
                customer_email=to_email,
                invoice=invoice,
                open_invoices=open_invoices,
                sender_name=sender_name,
                sender_email=sender_email,
                enrollment_start_date=row["enrollment__start_date"],
                today=today_by_zone[zone],
            )
            email = render_step(steps[row["step_id"]], context)
        except (TemplateRenderError, ValueError) as exc:
            updates.append(
                (row["id"], Status.FAILED, to_email, "", "", "", f"Could not render: {exc}"[:2000])
            )
            continue
        warning = "" if to_email else NO_RECIPIENT_WARNING
        updates.append(
            (row["id"], Status.READY, to_email, email.subject, email.body_plain, email.body_html, warning)
        )
    return updates


def _local_today(zone: str, now: datetime.datetime) -> datetime.date:
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except (ValueError, KeyError):
        return now.date()


def _senders(connection_ids: Iterable[UUID]) -> dict[UUID, tuple[str, str]]:
    """Connection id -> (name, email); the name is the owning member's display name, else the email."""
    result = {}
    connections = EmailConnection.objects.filter(pk__in=list(connection_ids)).select_related("member__user")
    for conn in connections:
        name = conn.member.display_name if conn.member_id else ""
        result[conn.pk] = (name or conn.email, conn.email)
    return result


_INVOICE_COLUMNS = ("id", "customer_id", "number", "amount_due", "currency", "due_date", "status")


def _invoices(rows: list[dict]) -> tuple[dict[UUID, dict], dict[UUID, list[dict]]]:
    """Enrollment invoices by id, and every open invoice per customer, oldest due first: one query.

    On PostgreSQL the ids go in as two array parameters (`= ANY(%s)`): an IN list of thousands of
    parameters costs more to build than the query takes to run.
    """
    enrollment_invoice_ids = list({row["enrollment__invoice_id"] for row in rows} - {None})
    customer_ids = list({row["customer_id"] for row in rows})
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT {", ".join(_INVOICE_COLUMNS)} FROM {Invoice._meta.db_table}
                    WHERE (customer_id = ANY(%s) AND status = 'open') OR id = ANY(%s)
                    ORDER BY customer_id, due_date, issue_date, created_at""",  # noqa: S608 (our names)
                [customer_ids, enrollment_invoice_ids],
            )
            found = [dict(zip(_INVOICE_COLUMNS, values, strict=True)) for values in cursor.fetchall()]
    else:
        found = list(
            Invoice.objects.filter(
                Q(customer_id__in=customer_ids, status=Invoice.Status.OPEN) | Q(pk__in=enrollment_invoice_ids)
            )
            .order_by("customer_id", "due_date", "issue_date", "created_at")
            .values(*_INVOICE_COLUMNS)
        )
    by_id = {invoice["id"]: invoice for invoice in found}
    open_by_customer: dict[UUID, list[dict]] = defaultdict(list)
    for invoice in found:
        if invoice["status"] == Invoice.Status.OPEN:
            open_by_customer[invoice["customer_id"]].append(invoice)
    return by_id, open_by_customer


def _write_updates(updates: list[tuple], *, now: datetime.datetime) -> None:
    """One UPDATE for the batch (UNNEST arrays on PostgreSQL; bulk_update elsewhere)."""
    if db_connection.vendor == "postgresql":
        ids, statuses, to_emails, subjects, plains, htmls, errors = (
            list(col) for col in zip(*updates, strict=True)
        )
        table = ScheduledStep._meta.db_table
        with db_connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS s SET
                    status = v.status,
                    to_email = v.to_email,
                    subject = v.subject,
                    body_plain = v.body_plain,
                    body_html = v.body_html,
                    error = v.error,
                    ready_at = CASE WHEN v.status = 'ready' THEN %s ELSE s.ready_at END,
                    processed_at = CASE WHEN v.status = 'failed' THEN %s ELSE s.processed_at END,
                    updated_at = %s
                FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[],
                            %s::text[], %s::text[], %s::text[])
                    AS v(id, status, to_email, subject, body_plain, body_html, error)
                WHERE s.id = v.id
                """,  # noqa: S608 (the table name is ours, every value is a parameter)
                [now, now, now, ids, statuses, to_emails, subjects, plains, htmls, errors],
            )
        return
    objs = []
    for row_id, status, to_email, subject, plain, html, error in updates:
        obj = ScheduledStep(pk=row_id, status=status, to_email=to_email, subject=subject, body_plain=plain)
        obj.body_html, obj.error, obj.updated_at = html, error, now
        obj.ready_at = now if status == Status.READY else None
        obj.processed_at = now if status == Status.FAILED else None
        objs.append(obj)
    fields = ["status", "to_email", "subject", "body_plain", "body_html", "error", "ready_at", "processed_at"]
    ScheduledStep.objects.bulk_update(objs, [*fields, "updated_at"], batch_size=500)

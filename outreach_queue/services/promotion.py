"""Promotion: `scheduled` rows whose time has come become `ready`, with their email rendered.

What a person reviews is what goes out, so a reminder's email is rendered here, once, and stored on
the row. The pass is set-based: each batch is one locking SELECT (FOR UPDATE SKIP LOCKED, so two
passes at once split the work instead of waiting or doing it twice), a handful of bulk reads for the
render context, one UPDATE for the whole batch, and in the same transaction one `queue_row.ready` and
one `queue_row.failed` statement recording the events of all the batch's rows (events_record: INSERT ...
SELECT), so the cost per batch stays a few statements whatever its size.
"""

import datetime
import logging
from typing import NamedTuple
from uuid import UUID

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from daylit.enqueue import enqueue_on_commit
from daylit.models import Company
from enrollments.models import Enrollment, ScheduledStep
from enrollments.payloads import QUEUE_ROW
from enrollments.services import enrollments_finish_if_done
from events.services import events_record
from events.types import QUEUE_ROW_FAILED, QUEUE_ROW_READY
from outreach_queue.services.context import ROW_FIELDS, RowContexts, variant_templates
from outreach_queue.services.drafts import NO_RECIPIENT_WARNING, enqueue_draft_generation
from outreach_queue.services.suppressions import normalized, suppressed_reasons
from sequences.drafting import GenerationNotConfigured, step_is_drafted, step_needs_provider
from sequences.models import SequenceStep
from sequences.templating import TemplateRenderError, render_step

logger = logging.getLogger(__name__)

PROMOTION_BATCH_SIZE = 2_000
# A helper pass on a backlog (outreach_queue.tasks.promote_pass), enqueued by name: services never
# import tasks.
PROMOTE_PASS_TASK = "queue.promote_pass"

Status = ScheduledStep.Status


def queue_rows_promote(
    *,
    company: Company | None = None,
    now: datetime.datetime | None = None,
    batch_size: int = PROMOTION_BATCH_SIZE,
    helpers: int = 0,
) -> int:
    """Move every due `scheduled` row of an active enrollment to `ready` (or `failed` when it cannot
    render); only `company`'s rows when given. Returns how many rows this pass moved.

    Safe to run concurrently and repeatedly: rows are locked with SKIP LOCKED per batch and only rows
    still `scheduled` are selected, so each row is promoted by exactly one pass. Rows of completed
    enrollments stay `scheduled` (stopping cancels them anyway).

    One pass, in this process and thread. A backlog (the first batch came back full) can be shared
    with `helpers` more passes, enqueued as `PROMOTE_PASS_TASK` for Celery workers (after the caller's
    transaction commits, so they see its rows): SKIP LOCKED splits the batches, and one pass renders
    while the database writes another's batch. The periodic task asks for `QUEUE_PROMOTION_WORKERS - 1`
    helpers; a web request asks for none and never starts a thread (it only promotes one company's
    rows, and a thread per request would multiply connections with the web workers). A helper that
    cannot be enqueued is logged and this pass does the work alone.
    """
    now = now or timezone.now()
    # Ordered like the batches: a bare EXISTS is planned as a sequential scan (the planner counts on
    # finding one of the many rows with a past `scheduled_for` soon, not knowing that they have all
    # moved on from `scheduled`); in this order it is one probe of the index's (status, time) range.
    if not _due_rows(company=company, now=now).order_by("scheduled_for").values_list("pk")[:1]:
        return 0
    pass_args = {"company": company, "now": now, "batch_size": batch_size}
    moved, after = _promote_pass(**pass_args, after=None, max_batches=1)
    if moved < batch_size:
        return moved
    if helpers > 0:
        args = [now.isoformat(), str(company.pk) if company is not None else None]
        enqueue_on_commit(PROMOTE_PASS_TASK, *([args] * helpers))
    return moved + _promote_pass(**pass_args, after=after)[0]


def queue_rows_promote_helper(*, now: datetime.datetime, company: Company | None = None) -> int:
    """The pass of a helper task (`PROMOTE_PASS_TASK`): batches from the start of the due rows (the
    other passes' are locked or gone), never more helpers. Returns how many rows it moved."""
    return _promote_pass(company=company, now=now, batch_size=PROMOTION_BATCH_SIZE, after=None)[0]


def _promote_pass(
    *,
    company: Company | None,
    now: datetime.datetime,
    batch_size: int,
    after: tuple | None,
    max_batches: int | None = None,
) -> tuple[int, tuple | None]:
    """Batches in (scheduled_for, id) order until one comes back short (or `max_batches`)."""
    total, batches = 0, 0
    while True:
        moved, failed_enrollments, after = _promote_batch(
            company=company, now=now, batch_size=batch_size, after=after
        )
        total += moved
        batches += 1
        if failed_enrollments:
            enrollments_finish_if_done(enrollment_ids=failed_enrollments)
        if moved < batch_size or batches == max_batches:
            return total, after


def _due_rows(*, company: Company | None, now: datetime.datetime):
    """`scheduled` rows of active enrollments whose time has come. Every queue read asks first whether
    there is any (one indexed probe, no transaction): mostly there is none."""
    due = ScheduledStep.objects.filter(
        status=Status.SCHEDULED, scheduled_for__lte=now, enrollment__status=Enrollment.Status.ACTIVE
    )
    return due if company is None else due.filter(company=company)


def _promote_batch(
    *, company: Company | None, now: datetime.datetime, batch_size: int, after: tuple | None
) -> tuple[int, set[UUID], tuple | None]:
    """Promote one batch in (scheduled_for, id) order, starting past `after` (keyset), so later batches
    do not rescan the index entries of rows earlier batches already moved."""
    with transaction.atomic():
        due = _due_rows(company=company, now=now)
        if after is not None:
            # `scheduled_for >= after` is redundant with the OR but is what the index can start from:
            # without it the scan walks every (dead) index entry that earlier batches promoted.
            due = due.filter(
                Q(scheduled_for__gt=after[0]) | Q(scheduled_for=after[0], id__gt=after[1]),
                scheduled_for__gte=after[0],
            )
        rows = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .order_by("scheduled_for", "id")
            .values("scheduled_for", "company_id", *ROW_FIELDS)[:batch_size]
        )
        if not rows:
            return 0, set(), after
        updates = _render_rows(rows, now=now)
        _write_updates(updates, now=now)
        # Every locked row was still `scheduled` and the UPDATE moved them all: these are its changes.
        for event, status in ((QUEUE_ROW_READY, Status.READY), (QUEUE_ROW_FAILED, Status.FAILED)):
            ids = [update.id for update in updates if update.status == status]
            events_record(type=event, subject_type=QUEUE_ROW, ids=ids)
        drafts = [update.id for update in updates if update.draft_pending]
        enqueue_draft_generation(row_ids=drafts)
    failed = {
        row["enrollment_id"]
        for row, update in zip(rows, updates, strict=True)
        if update.status == Status.FAILED
    }
    return len(rows), failed, (rows[-1]["scheduled_for"], rows[-1]["id"])


class RowUpdate(NamedTuple):
    """What promotion writes to one row (the columns of `_write_updates`' UNNEST, in order)."""

    id: UUID
    status: str
    to_email: str = ""
    subject: str = ""
    body_plain: str = ""
    body_html: str = ""
    error: str = ""
    draft_pending: bool = False


def _render_rows(rows: list[dict], *, now: datetime.datetime) -> list[RowUpdate]:
    """One RowUpdate per row, in order.

    A reminder whose step has `instructions` waits for its AI draft (`draft_pending`, no content yet)
    when a provider is configured; without one, its templates are rendered as usual, and a step
    written only as instructions fails with the reason. A row assigned a variant (`variant_key`)
    renders that variant's templates instead of the step's (docs/variants.md).
    """
    reminders = [row for row in rows if row["step_type"] == SequenceStep.StepType.REMINDER]
    steps = SequenceStep.objects.in_bulk({row["step_id"] for row in reminders})
    contexts = RowContexts(reminders, now=now)

    suppressed = suppressed_reasons((row["company_id"], row["customer__email"]) for row in reminders)
    updates = []
    for row in rows:
        if row["step_type"] != SequenceStep.StepType.REMINDER:
            updates.append(RowUpdate(row["id"], Status.READY))
            continue
        step = steps[row["step_id"]]
        to_email = row["customer__email"] or ""
        reason = suppressed.get((row["company_id"], normalized(to_email)))
        if reason:
            updates.append(
                RowUpdate(row["id"], Status.FAILED, to_email=to_email, error=f"suppressed: {reason}")
            )
            continue
        warning = "" if to_email else NO_RECIPIENT_WARNING
        try:
            # A variant carries its own wording, so its row renders it and is never AI-drafted.
            variant = variant_templates(step, row["variant_key"])
        except ValueError as exc:
            updates.append(
                RowUpdate(row["id"], Status.FAILED, to_email=to_email, error=f"Could not render: {exc}")
            )
            continue
        if variant is None and step_is_drafted(step):
            updates.append(
                RowUpdate(row["id"], Status.READY, to_email=to_email, error=warning, draft_pending=True)
            )
            continue
        if variant is None and step_needs_provider(step):
            reason = str(GenerationNotConfigured())
            updates.append(RowUpdate(row["id"], Status.FAILED, to_email=to_email, error=reason))
            continue
        try:
            email = render_step(variant or step, contexts.context_for(row))
        except (TemplateRenderError, ValueError) as exc:
            reason = f"Could not render: {exc}"[:2000]
            updates.append(RowUpdate(row["id"], Status.FAILED, to_email=to_email, error=reason))
            continue
        updates.append(
            RowUpdate(
                row["id"],
                Status.READY,
                to_email=to_email,
                subject=email.subject,
                body_plain=email.body_plain,
                body_html=email.body_html,
                error=warning,
            )
        )
    return updates


def _write_updates(updates: list[RowUpdate], *, now: datetime.datetime) -> None:
    """One UPDATE for the batch, its values in UNNEST arrays."""
    ids, statuses, to_emails, subjects, plains, htmls, errors, pending = (
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
                draft_pending = v.draft_pending,
                ready_at = CASE WHEN v.status = 'ready' THEN %s ELSE s.ready_at END,
                processed_at = CASE WHEN v.status = 'failed' THEN %s ELSE s.processed_at END,
                updated_at = %s
            FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[],
                        %s::text[], %s::text[], %s::text[], %s::boolean[])
                AS v(id, status, to_email, subject, body_plain, body_html, error, draft_pending)
            WHERE s.id = v.id
            """,  # noqa: S608 (the table name is ours, every value is a parameter)
            [now, now, now, ids, statuses, to_emails, subjects, plains, htmls, errors, pending],
        )

"""AI drafts on queue rows: generate after promotion, retry while the provider is unavailable, regenerate.

Promotion marks a reminder whose step has `instructions` as `draft_pending` (ready, no content) and
enqueues `queue.generate_draft` after commit; the provider is called here, outside any transaction,
and the draft is written with a conditional UPDATE, so a row claimed for sending meanwhile, or a
draft written twice by two workers, changes nothing. A pending row cannot be sent: it waits for a
draft, or for a person to write the email (PATCH) or ask for a new draft (regenerate).
"""

import datetime
import logging
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from daylit.enqueue import enqueue_on_commit
from daylit.errors import BadRequest, Conflict, UpstreamError
from enrollments.models import ScheduledStep
from outreach_queue.services.backoff import backoff_seconds
from outreach_queue.services.context import ROW_FIELDS, RowContexts
from sequences.drafting import (
    GenerationError,
    GenerationNotConfigured,
    GenerationUnavailable,
    generate_draft,
    generation_configured,
    step_has_templates,
)
from sequences.models import SequenceStep
from sequences.templating import TemplateRenderError, render_step

logger = logging.getLogger(__name__)

Status = ScheduledStep.Status
NO_RECIPIENT_WARNING = "The customer has no email address: set to_email before sending."
RETRY_BASE_SECONDS = 10
RETRY_CAP_SECONDS = 300
STALE_AFTER_SECONDS = 300
SWEEP_LIMIT = 500


@dataclass(frozen=True)
class DraftResult:
    row: ScheduledStep
    retry_in: float | None = None  # set when the provider was unavailable and attempts remain
    failure: GenerationError | None = None


def content_frozen() -> Conflict:
    """Edits and new drafts stop at the first send attempt: it may have delivered, and a retry must
    replay the same payload under the row's idempotency key (Nylas answers another one by 409)."""
    return Conflict(
        "A send of this email was already attempted and may have delivered it: its content is frozen so "
        "that a retry cannot send a different email. Send it as it is, or cancel it.",
        code="content_frozen",
    )


def enqueue_draft_generation(*, row_ids: list[UUID]) -> None:
    """After commit, hand each row to a worker. Nothing is lost if that fails: the sweep finds the rows."""
    enqueue_on_commit("queue.generate_draft", *([str(row_id)] for row_id in row_ids))


def queue_row_draft(*, row_id: UUID) -> DraftResult | None:
    """Write the AI draft of a `draft_pending` row (the task's entry point); None when none is pending."""
    row = _drafting_row(row_id)
    if row is None or row.status != Status.READY or not row.draft_pending:
        return None
    return _generate(row, only_if_pending=True)


def queue_row_regenerate(*, row: ScheduledStep) -> ScheduledStep:
    """A person asks for a new draft of a ready reminder whose step has instructions.

    409 for other rows, for a row of an experiment's variant (`variant_row`) and once a send was
    attempted (`content_frozen`), 400 without a provider; a
    provider that is unavailable answers 502 (503 when it rate-limits) with the reason also kept in
    `error`. A draft that fails its checks keeps the previous content and says why in `error` (200).
    """
    row = _drafting_row(row.pk)
    if row.step_type != SequenceStep.StepType.REMINDER:
        raise Conflict(f"A {row.step_type} step has no email to draft.", code="not_a_reminder")
    if row.status != Status.READY:
        raise Conflict(f"A {row.status} row cannot be redrafted; only ready reminders.", code="invalid_state")
    if row.attempts:
        raise content_frozen()
    if not row.step.instructions.strip():
        raise Conflict("This step has no instructions to draft from.", code="no_instructions")
    if row.variant_key:  # the experiment measures the variant's wording: an AI rewrite would void it
        raise Conflict(
            f"This row is variant {row.variant_key!r} of an experiment; its wording is the variant's.",
            code="variant_row",
        )
    if not generation_configured():
        raise BadRequest(str(GenerationNotConfigured()), code="generation_not_configured")
    result = _generate(row, only_if_pending=False)
    if isinstance(result.failure, GenerationUnavailable):
        failure = result.failure
        raise UpstreamError.passing(
            str(failure), rate_limited=failure.rate_limited, retry_after=failure.retry_after
        )
    return result.row


def queue_rows_draft_sweep(*, now: datetime.datetime | None = None) -> int:
    """Re-enqueue pending drafts nobody is working on (a lost task, a broker that was down).

    A row counts as abandoned when it has not changed for STALE_AFTER_SECONDS; touching `updated_at`
    in the same locked UPDATE claims it, so two sweeps enqueue it once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            ScheduledStep.objects.filter(
                status=Status.READY,
                draft_pending=True,
                draft_attempts__lt=settings.AI_MAX_ATTEMPTS,
                updated_at__lt=now - datetime.timedelta(seconds=STALE_AFTER_SECONDS),
            )
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:SWEEP_LIMIT]
        )
        if ids:
            ScheduledStep.objects.filter(pk__in=ids).update(updated_at=now)
            enqueue_draft_generation(row_ids=ids)
    return len(ids)


def _drafting_row(row_id: UUID) -> ScheduledStep | None:
    return ScheduledStep.objects.select_related("step", "sequence").filter(pk=row_id).first()


def _generate(row: ScheduledStep, *, only_if_pending: bool) -> DraftResult:
    now = timezone.now()
    values = ScheduledStep.objects.filter(pk=row.pk).values(*ROW_FIELDS).get()
    ScheduledStep.objects.filter(pk=row.pk).update(draft_attempts=F("draft_attempts") + 1, updated_at=now)
    attempts = row.draft_attempts + 1
    try:
        context = RowContexts([values], now=now).context_for(values)
        frame = render_step(row.step, context) if step_has_templates(row.step) else None
    except (TemplateRenderError, ValueError) as exc:
        return _record_failure(row, GenerationError(f"Could not render the template frame: {exc}"), attempts)
    try:
        draft = generate_draft(
            instructions=row.step.instructions, context=context, frame=frame, history=_thread_history(row)
        )
    except GenerationError as exc:
        return _record_failure(row, exc, attempts)
    pending = {"draft_pending": True} if only_if_pending else {}
    # attempts=0: a send attempted while the provider was writing freezes the content (see regenerate).
    ScheduledStep.objects.filter(pk=row.pk, status=Status.READY, attempts=0, **pending).update(
        subject=draft.subject,
        body_plain=draft.body_plain,
        body_html=draft.body_html,
        generated=True,
        prompt_version=draft.prompt_version,
        draft_pending=False,
        error="" if row.to_email else NO_RECIPIENT_WARNING,
        updated_at=timezone.now(),
    )
    return DraftResult(ScheduledStep.objects.get(pk=row.pk))


def _record_failure(row: ScheduledStep, exc: GenerationError, attempts: int) -> DraftResult:
    retry_in = None
    if exc.retryable and attempts < settings.AI_MAX_ATTEMPTS:
        backoff = backoff_seconds(attempts, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS)
        retry_in = max(backoff, getattr(exc, "retry_after", None) or 0)
        error = f"AI draft attempt {attempts} of {settings.AI_MAX_ATTEMPTS} failed: {exc}; retrying."
    elif exc.retryable:
        error = f"AI draft failed after {attempts} attempts: {exc}. Write the email or regenerate it."
    else:
        error = f"AI draft failed: {exc}. Write the email or regenerate it."
    ScheduledStep.objects.filter(pk=row.pk, status=Status.READY).update(
        error=error[:2000], updated_at=timezone.now()
    )
    logger.info("queue row %s: %s", row.pk, error)
    return DraftResult(ScheduledStep.objects.get(pk=row.pk), retry_in=retry_in, failure=exc)


def _thread_history(row: ScheduledStep) -> list[dict]:
    """The enrollment's earlier sent emails, oldest first, when follow-ups go in one thread."""
    if not row.sequence.send_followups_in_thread:
        return []
    return list(
        ScheduledStep.objects.filter(enrollment_id=row.enrollment_id, status=Status.SENT)
        .order_by("processed_at", "id")
        .values("subject", "body_plain")
    )

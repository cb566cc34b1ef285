"""Writes of the sequences app. Each function owns its transaction and takes keyword arguments.

Locking: every write that checks the children of a sequence (its steps) first locks the sequence
row with `select_for_update`. Enrolling takes the same lock, so "does this step have history?"
and "does this sequence have an active step?" cannot change between the check and the write.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from rest_framework.exceptions import ValidationError

from connections.models import EmailConnection
from daylit.errors import BadRequest, Conflict, violates
from daylit.models import Company
from sequences.drafting import step_needs_provider
from sequences.models import (
    CALENDAR_SETTINGS,
    DEFAULT_TIMEZONE,
    HOLDOUT_KEY,
    MAX_HOLDOUT_PERCENT,
    MAX_VARIANTS,
    MIN_VARIANTS,
    Sequence,
    SequenceStep,
)
from sequences.selectors import has_enrollments, steps_with_history
from sequences.signals import sequence_archived
from sequences.templating import FIELD_HTML, FIELD_PLAIN, FIELD_SUBJECT, template_errors

NAME_CONSTRAINT = "sequences_sequence_name_ci_unique"

# Settings copied by duplicate_from unless the request gives them.
COPIED_SETTINGS = (
    "timezone",
    "send_followups_in_thread",
    "sender_connection",
    "auto_send",
    "auto_send_generated",
    "stop_on_reply",
    *CALENDAR_SETTINGS,
)
SEQUENCE_SETTINGS = frozenset(COPIED_SETTINGS) | {"name"}
STEP_FIELDS = (
    "step_type",
    "label",
    "offset_days",
    "offset_time",
    "is_active",
    "subject_template",
    "body_plain_template",
    "body_html_template",
    "instructions",
    "variants",
    "holdout_percent",
)
# What may still change once a step has history: everything else is what enrollments were scheduled with
# (an experiment too: its rows were assigned by these variants and weights, and are counted by them).
HISTORY_SAFE_FIELDS = frozenset({"label", "is_active"})
TEMPLATE_FIELDS = (FIELD_SUBJECT, FIELD_PLAIN, FIELD_HTML)
# The longest template the API takes, per field (the step's and each variant's).
TEMPLATE_MAX_LENGTHS = {FIELD_SUBJECT: 2_000, FIELD_PLAIN: 100_000, FIELD_HTML: 200_000}
VARIANT_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MIN_WEIGHT, MAX_WEIGHT = 1, 100


ACTION_ACTIVATE = "activate"
ACTION_ARCHIVE = "archive"
ACTIONS = (ACTION_ACTIVATE, ACTION_ARCHIVE)


def _name_conflict(exc: IntegrityError, name: str) -> Conflict:
    if violates(exc, NAME_CONSTRAINT):
        return Conflict(f"A sequence named '{name}' already exists in this company.", code="duplicate_name")
    raise exc


def check_sender(*, connection: EmailConnection | None, company: Company) -> None:
    """A sender must be an active connection of the same company (400 naming the field otherwise; the
    admin's sequence form calls it too)."""
    if connection is None:
        return
    if connection.company_id != company.id:
        raise ValidationError({"sender_connection_id": ["This email connection does not exist."]})
    if connection.status != EmailConnection.Status.ACTIVE:
        raise ValidationError(
            {"sender_connection_id": [f"This email connection is not active (status: {connection.status})."]}
        )


def check_calendar(*, values: dict[str, Any]) -> None:
    """The send window is both ends or neither, start before end (400 naming the field)."""
    start, end = values.get("send_window_start"), values.get("send_window_end")
    if (start is None) != (end is None):
        missing = "send_window_end" if end is None else "send_window_start"
        raise ValidationError({missing: ["Give both ends of the send window, or neither."]})
    if start is not None and not start < end:
        raise ValidationError(
            {"send_window_end": [f"The send window must end after it starts ({start:%H:%M})."]}
        )


def check_anchor_change(*, sequence: Sequence, anchor: str) -> None:
    """An anchor is what every enrollment's rows were planned from: it cannot change under them (409),
    and steps before the anchor exist only from a due date (400)."""
    if anchor == sequence.anchor:
        return
    if has_enrollments(sequence):
        raise Conflict(
            "This sequence has enrollments, which were planned from its anchor; the anchor cannot change. "
            "Duplicate the sequence to use another anchor.",
            code="sequence_has_enrollments",
        )
    if anchor != Sequence.Anchor.INVOICE_DUE and sequence.steps.filter(offset_days__lt=0).exists():
        raise ValidationError(
            {
                "anchor": [
                    "Steps with negative offset_days come before an invoice's due date: "
                    "only an invoice_due sequence may have them."
                ]
            }
        )


def sequence_create(
    *,
    company: Company,
    name: str,
    duplicate_from: Sequence | None = None,
    **settings: Any,
) -> Sequence:
    """Create a draft sequence. `settings` may hold timezone, send_followups_in_thread,
    sender_connection, auto_send, stop_on_reply.

    With `duplicate_from` (a sequence of the same company) its settings are copied unless given
    and its steps are copied with new ids and no history, in the same transaction. A copied sender
    that is no longer active is dropped rather than copied. A name clash (any case) is a 409.
    """
    unknown = set(settings) - set(COPIED_SETTINGS)
    if unknown:
        raise TypeError(f"unknown sequence settings: {sorted(unknown)}")
    if duplicate_from is not None and duplicate_from.company_id != company.id:
        raise ValidationError({"duplicate_from": ["This sequence does not exist."]})
    values: dict[str, Any] = {"timezone": DEFAULT_TIMEZONE}
    if duplicate_from is not None:
        values.update({field: getattr(duplicate_from, field) for field in COPIED_SETTINGS})
        sender = duplicate_from.sender_connection
        if sender is not None and sender.status != EmailConnection.Status.ACTIVE:
            values["sender_connection"] = None
    values.update(settings)
    check_sender(connection=values.get("sender_connection"), company=company)
    check_calendar(values=values)
    try:
        with transaction.atomic():
            sequence = Sequence.objects.create(company=company, name=name, **values)
            if duplicate_from is not None:
                SequenceStep.objects.bulk_create(
                    [
                        SequenceStep(
                            sequence=sequence, **{field: getattr(step, field) for field in STEP_FIELDS}
                        )
                        for step in duplicate_from.steps.all()
                    ],
                    batch_size=500,
                )
    except IntegrityError as exc:
        raise _name_conflict(exc, name) from exc
    return sequence


def sequence_update(*, sequence: Sequence, data: dict[str, Any]) -> Sequence:
    """Apply a PATCH of settings (not status: that moves only through `sequence_apply_action`).
    The row is locked for the write; a name clash (any case) is a 409.
    """
    unknown = set(data) - SEQUENCE_SETTINGS
    if unknown:
        raise TypeError(f"not updatable here: {sorted(unknown)}")
    if "sender_connection" in data:
        check_sender(connection=data["sender_connection"], company=sequence.company)
    try:
        with transaction.atomic():
            locked = Sequence.objects.select_for_update().get(pk=sequence.pk)
            if "anchor" in data:
                check_anchor_change(sequence=locked, anchor=data["anchor"])
            for field, value in data.items():
                setattr(locked, field, value)
            check_calendar(values=vars(locked))
            locked.save()
    except IntegrityError as exc:
        raise _name_conflict(exc, data.get("name", sequence.name)) from exc
    return locked


def sequence_apply_action(*, sequence: Sequence, action: str) -> Sequence:
    """Move a sequence through its lifecycle: draft|archived -> active, draft|active -> archived.

    Locks the sequence row before checking its steps. Activating needs an active step (409).
    Archiving sends `sequence_archived` inside this transaction; the enrollments app completes the
    active enrollments from it, so both commit or neither does. Repeating the current state changes
    nothing and returns the sequence as it is (idempotent). An unknown action is a 400.
    """
    if action not in ACTIONS:
        raise BadRequest(
            f"Unknown action '{action}'. Use one of: {', '.join(ACTIONS)}.", code="unknown_action"
        )
    with transaction.atomic():
        locked = Sequence.objects.select_for_update().get(pk=sequence.pk)
        if action == ACTION_ACTIVATE:
            if locked.status == Sequence.Status.ACTIVE:
                return locked
            if not locked.steps.filter(is_active=True).exists():
                raise Conflict("Add an active step before activating this sequence.", code="no_active_step")
            locked.status = Sequence.Status.ACTIVE
            locked.save(update_fields=["status", "updated_at"])
        else:
            if locked.status == Sequence.Status.ARCHIVED:
                return locked
            locked.status = Sequence.Status.ARCHIVED
            locked.save(update_fields=["status", "updated_at"])
            sequence_archived.send(sender=Sequence, sequence=locked)
    return locked


def _validate_templates(data: dict[str, Any]) -> None:
    """400 with the field and reason for any given template that does not parse or leaves the context."""
    errors = template_errors(
        subject=data.get("subject_template", ""),
        body_plain=data.get("body_plain_template", ""),
        body_html=data.get("body_html_template", ""),
    )
    if errors:
        raise ValidationError(errors)


def _variant_problems(variant: Any) -> tuple[dict[str, Any], list[str]]:
    """One variant's cleaned value and what is wrong with it ("field: message"), in field order."""
    if not isinstance(variant, dict):
        return {}, ["Expected an object with key, weight and the three templates."]
    problems = []  # fields it does not know are left out, as a serializer leaves them
    key, weight = variant.get("key"), variant.get("weight")
    if not isinstance(key, str) or not VARIANT_KEY_RE.fullmatch(key):
        problems.append(
            "key: A short slug is required: 1..40 lowercase letters, digits, '-' or '_', starting with a "
            "letter or digit."
        )
    elif key == HOLDOUT_KEY:
        problems.append(f"key: '{HOLDOUT_KEY}' names the held-out group; choose another key.")
    if not isinstance(weight, int) or isinstance(weight, bool) or not MIN_WEIGHT <= weight <= MAX_WEIGHT:
        problems.append(f"weight: An integer from {MIN_WEIGHT} to {MAX_WEIGHT} is required.")
    templates = {}
    for field in TEMPLATE_FIELDS:
        value = variant.get(field, "")
        if not isinstance(value, str):
            problems.append(f"{field}: Expected a string.")
        elif len(value) > TEMPLATE_MAX_LENGTHS[field]:
            problems.append(
                f"{field}: Ensure this field has no more than {TEMPLATE_MAX_LENGTHS[field]} characters."
            )
        else:
            templates[field] = value
    if len(templates) == len(TEMPLATE_FIELDS):  # the checker only once every template is a bounded string
        for field, messages in template_errors(
            subject=templates[FIELD_SUBJECT],
            body_plain=templates[FIELD_PLAIN],
            body_html=templates[FIELD_HTML],
        ).items():
            problems += [f"{field}: {message}" for message in messages]
        # A variant is its wording: it is never drafted by the AI, so an empty one would send nothing.
        if not templates[FIELD_SUBJECT].strip():
            problems.append(f"{FIELD_SUBJECT}: A variant needs a subject.")
        if not (templates[FIELD_PLAIN].strip() or templates[FIELD_HTML].strip()):
            problems.append(f"{FIELD_PLAIN}: A variant needs a body (plain text, HTML or both).")
    return {"key": key, "weight": weight, **templates}, problems


def clean_variants(*, variants: Any) -> list[dict[str, Any]]:
    """A step's `variants` as stored: [] or 2..4 objects {key, weight, subject_template,
    body_plain_template, body_html_template} (templates left out are ""), each template checked as the
    step's own are. 400 on `variants`, each message naming its item ("Item 1: weight: ...")."""
    if not isinstance(variants, list):
        raise ValidationError(
            {"variants": [f"Expected a list of {MIN_VARIANTS} to {MAX_VARIANTS} variants."]}
        )
    if variants and not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise ValidationError(
            {
                "variants": [
                    f"Give {MIN_VARIANTS} to {MAX_VARIANTS} variants, or none (an empty list); "
                    f"got {len(variants)}."
                ]
            }
        )
    cleaned, messages, seen = [], [], set()
    for index, variant in enumerate(variants):
        clean, problems = _variant_problems(variant)
        key = clean.get("key")
        if isinstance(key, str):  # (a list or object key is refused above, and cannot be hashed)
            if key in seen:
                problems.append(f"key: '{key}' is already the key of another variant of this step.")
            seen.add(key)
        messages += [f"Item {index}: {problem}" for problem in problems]
        cleaned.append(clean)
    if messages:
        raise ValidationError({"variants": messages})
    return cleaned


def check_experiment(*, step_type: str, variants: list[dict[str, Any]], holdout_percent: Any) -> None:
    """Variants and a holdout belong to reminders only, the holdout is 0..50 (400 naming the field).
    `variants` is already cleaned (clean_variants)."""
    if not isinstance(holdout_percent, int) or not 0 <= holdout_percent <= MAX_HOLDOUT_PERCENT:
        raise ValidationError(
            {"holdout_percent": [f"An integer from 0 to {MAX_HOLDOUT_PERCENT} is required."]}
        )
    if step_type == SequenceStep.StepType.REMINDER:
        return
    if variants:
        raise ValidationError(
            {"variants": [f"Only a reminder step may have variants (this one is a {step_type})."]}
        )
    if holdout_percent:
        raise ValidationError(
            {"holdout_percent": [f"Only a reminder step may have a holdout (this one is a {step_type})."]}
        )


def check_generation(*, step: SequenceStep) -> None:
    """A reminder written only as `instructions` needs an AI provider to ever become an email (the
    step admin calls it too)."""
    if step_needs_provider(step):
        raise ValidationError(
            {
                "instructions": [
                    "AI generation is not configured (set AI_API_KEY), so a reminder cannot be written "
                    "from instructions alone: add a subject and body template."
                ]
            }
        )


def _lock_sequence(sequence_id) -> Sequence:
    return Sequence.objects.select_for_update().get(pk=sequence_id)


def check_offset(*, sequence: Sequence, offset_days: int) -> None:
    """Before the anchor (offset_days < 0) is a time only a due date has."""
    if offset_days < 0 and sequence.anchor != Sequence.Anchor.INVOICE_DUE:
        raise ValidationError(
            {
                "offset_days": [
                    f"Must be 0 or more: this sequence's anchor is {sequence.anchor}; only an "
                    "invoice_due sequence has steps before its anchor (-365..-1)."
                ]
            }
        )


def step_create(*, sequence: Sequence, data: dict[str, Any]) -> SequenceStep:
    """Add a step (defaults from the model for fields left out); templates are validated first."""
    fields = {field: data[field] for field in STEP_FIELDS if field in data}
    _validate_templates(fields)
    if "variants" in fields:
        fields["variants"] = clean_variants(variants=fields["variants"])
    step = SequenceStep(sequence=sequence, **fields)
    check_experiment(step_type=step.step_type, variants=step.variants, holdout_percent=step.holdout_percent)
    check_generation(step=step)
    with transaction.atomic():
        check_offset(sequence=_lock_sequence(sequence.pk), offset_days=step.offset_days)
        step.save(force_insert=True)
    return step


def step_update(*, step: SequenceStep, data: dict[str, Any]) -> SequenceStep:
    """Apply a PUT/PATCH: any subset of the create fields; fields left out keep their values.

    Locks the sequence row, then asks for history once. With history only `label` and `is_active`
    may change; a request that would change anything else is a 409 (sending a field with its
    current value is not a change).
    """
    fields = {field: data[field] for field in STEP_FIELDS if field in data}
    _validate_templates({k: v for k, v in fields.items() if k in TEMPLATE_FIELDS})
    if "variants" in fields:
        fields["variants"] = clean_variants(variants=fields["variants"])
    with transaction.atomic():
        sequence = _lock_sequence(step.sequence_id)
        locked = SequenceStep.objects.select_for_update().get(pk=step.pk)
        changed = {field for field, value in fields.items() if getattr(locked, field) != value}
        if changed - HISTORY_SAFE_FIELDS and locked.pk in steps_with_history([locked.pk]):
            blocked = ", ".join(sorted(changed - HISTORY_SAFE_FIELDS))
            raise Conflict(
                f"This step has history: only label and is_active can change (not {blocked}).",
                code="step_has_history",
            )
        for field, value in fields.items():
            setattr(locked, field, value)
        check_experiment(
            step_type=locked.step_type, variants=locked.variants, holdout_percent=locked.holdout_percent
        )
        check_generation(step=locked)
        check_offset(sequence=sequence, offset_days=locked.offset_days)
        locked.save()
    return locked


def step_delete(*, step: SequenceStep) -> None:
    """Delete a step that has no history (409 otherwise). Locks the sequence row first."""
    conflict = Conflict(
        "This step has history and cannot be deleted; deactivate it instead.", code="step_has_history"
    )
    with transaction.atomic():
        _lock_sequence(step.sequence_id)
        if step.pk in steps_with_history([step.pk]):
            raise conflict
        try:
            with transaction.atomic():
                SequenceStep.objects.filter(pk=step.pk).delete()
        except ProtectedError as exc:  # scheduled rows point at it even if no provider said so
            raise conflict from exc

"""Writes of the enrollments app. Keyword-only, typed, each owning its transaction.

Every change records its events in the same transaction (events.services.events_record):
`enrollment.created` for each enrollment created, `enrollment.completed` for each one completed (its
`stop_reason` in the data), and `queue_row.cancelled` for each `scheduled` row a completion cancels.
Set-based changes record set-based: the ids come from the UPDATE's own RETURNING (exactly the rows it
changed), and each kind of event is one INSERT ... SELECT for all of them.

Lock order, the same everywhere so two writers never wait on each other in a circle:
sequence row -> scheduled rows -> enrollment rows. (The queue updates a row, then calls
`enrollments_finish_if_done`, which locks the enrollment: rows before enrollments as well.)
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID, uuid4

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from daylit.errors import BadRequest, Conflict, violates
from daylit.models import Customer, Invoice, Member
from daylit.services import customers_lock
from daylit.updates import update_returning_pks
from enrollments.fanout import rows_for, scheduled_rows_insert
from enrollments.models import CURRENT_STATUSES, Enrollment, ScheduledStep
from enrollments.payloads import ENROLLMENT, QUEUE_ROW
from enrollments.planning import (
    PLANNING_FIELDS,
    RowPlan,
    RulesPlanner,
    Target,
    earliest_open_invoices,
    plan_enrollment,
)
from enrollments.scheduling import local_today
from events.services import events_record
from events.types import ENROLLMENT_COMPLETED, ENROLLMENT_CREATED, QUEUE_ROW_CANCELLED
from sequences.models import Sequence

MAX_BULK_CUSTOMERS = 10_000
# Enrollments per INSERT. PostgreSQL gets them as UNNEST arrays (Django 5.2), so a full bulk is one INSERT.
ENROLLMENT_BATCH_SIZE = MAX_BULK_CUSTOMERS

STOP_REASON_DEFAULT = "stopped"
STOP_REASON_RE_ENROLLED = "re_enrolled"
STOP_REASON_ARCHIVED = "sequence_archived"
STOP_REASON_PAID = "paid"
STOP_REASON_FINISHED = "finished"

_ONE_ACTIVE_CONSTRAINT = "enrollments_enrollment_one_active"  # one active-or-paused enrollment
# A completed enrollment keeps no pause (its events say when it was paused).
NOT_PAUSED = {"paused_at": None, "paused_until": None, "pause_reason": None}


@dataclass(frozen=True)
class BulkEnrollResult:
    enrolled_count: int  # customers newly enrolled
    updated_count: int  # customers re-enrolled after their stale enrollment completed
    skipped_count: int  # distinct ids not enrolled: not customers of the company, or no open invoice
    no_open_invoice_count: int = 0  # of skipped_count: customers with no open invoice (invoice_due)


def enrollment_create(
    *,
    sequence: Sequence,
    customer: Customer,
    invoice: Invoice | None = None,
    start_date: datetime.date | None = None,
    created_by: Member | None = None,
) -> tuple[Enrollment, bool]:
    """Enroll one customer and schedule one row per active step. Returns (enrollment, created).

    The rows are planned under the sequence's calendar (enrollments.planning); a step running an
    experiment gets the enrollment's variant, or its holdout row created cancelled with a
    `queue_row.cancelled` event like a catch-up skip (docs/variants.md). An `invoice_due` sequence
    anchors on `invoice`, else on the customer's open invoice due first, which the enrollment records;
    with none, 409 `no_open_invoice`.

    The sequence row is locked FOR SHARE: concurrent enrolls do not block each other, but an archive
    (or a bulk enroll) of the same sequence waits, so nobody enrolls into a sequence being archived.
    The partial unique constraint decides races between enrolls of the same customer: the loser's
    INSERT fails inside a savepoint and it answers with the winner's enrollment, `created=False`.
    Raises Conflict (409) unless the sequence is active, BadRequest when the customer or invoice
    belongs elsewhere.
    """
    if customer.company_id != sequence.company_id:
        raise BadRequest("The customer belongs to another company.", code="customer_not_found")
    if invoice is not None and invoice.customer_id != customer.pk:
        raise BadRequest("The invoice is not this customer's.", code="invoice_not_found")

    with transaction.atomic():
        locked = _lock_sequence(sequence.pk, exclusive=False)
        _require_active(locked)
        rules = _require_rules(locked)
        _share_lock_customers(locked.company_id, [customer.pk])
        existing = _active_enrollment(locked.pk, customer.pk)
        if existing is not None:  # planning (and the invoice choice) would be thrown away
            return existing, False
        enrollment, plans = plan_enrollment(
            rules=rules, customer=customer, invoice=invoice, start_date=start_date, now=timezone.now()
        )
        enrollment.created_by = created_by
        for _attempt in range(3):
            try:
                with transaction.atomic():  # savepoint: the outer transaction survives a lost race
                    enrollment.save(force_insert=True)
            except IntegrityError as exc:
                if not violates(exc, _ONE_ACTIVE_CONSTRAINT):
                    raise
                existing = _active_enrollment(locked.pk, customer.pk)
                if existing is not None:
                    return existing, False
                enrollment.pk = uuid4()
                continue  # the winner was stopped in between: try again
            rows = ScheduledStep.objects.bulk_create(rows_for(enrollment, plans))
            events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[enrollment.pk])
            born_cancelled = [row.pk for row in rows if row.status == ScheduledStep.Status.CANCELLED]
            events_record(type=QUEUE_ROW_CANCELLED, subject_type=QUEUE_ROW, ids=born_cancelled)
            # Every row held out: nothing will ever move again, so it is finished now.
            if born_cancelled and enrollments_finish_if_done(enrollment_ids=[enrollment.pk]):
                enrollment.refresh_from_db()
            return enrollment, True
    raise Conflict("The customer's enrollment kept changing; try again.", code="enrollment_contention")


def enrollments_bulk_create(
    *,
    sequence: Sequence,
    customer_ids: Iterable[UUID],
    start_date: datetime.date | None = None,
    created_by: Member | None = None,
) -> BulkEnrollResult:
    """Enroll up to MAX_BULK_CUSTOMERS customers in a fixed number of queries.

    Duplicate ids count once; ids that are not customers of the sequence's company are skipped, and so
    are customers with no open invoice when the sequence is anchored on due dates (counted apart too).
    Customers already active in the sequence are re-enrolled: the stale enrollment completes
    ("re_enrolled") and its `scheduled` rows are cancelled, all in two UPDATEs. The rows are planned
    under the sequence's calendar once per (zone, holiday calendar, anchor date), and written by one
    INSERT ... SELECT, which also assigns each experiment step's variant or holdout (docs/variants.md).
    The sequence row is locked FOR UPDATE for the whole transaction, so single enrolls (FOR SHARE) and
    other bulks of this sequence wait instead of racing the set-based work.
    Raises Conflict unless the sequence is active, BadRequest for an empty or oversized list.
    """
    unique_ids = list(dict.fromkeys(customer_ids))
    if not unique_ids:
        raise BadRequest("customer_ids must not be empty.", code="empty_customer_ids")
    if len(unique_ids) > MAX_BULK_CUSTOMERS:
        raise BadRequest(f"At most {MAX_BULK_CUSTOMERS} customers per request.", code="too_many_customers")

    now = timezone.now()
    with transaction.atomic():
        locked = _lock_sequence(sequence.pk, exclusive=True)
        _require_active(locked)
        rules = _require_rules(locked)
        _share_lock_customers(locked.company_id, sorted(unique_ids))
        # One read: which ids are our customers, their calendars, and each one's active enrollment here.
        active_here = Enrollment.objects.filter(
            sequence_id=locked.pk, customer_id=OuterRef("pk"), status__in=CURRENT_STATUSES
        ).values("pk")[:1]
        found = {
            customer_id: (Target(customer_id, zone, country, subdivision), stale_id)
            for customer_id, zone, country, subdivision, stale_id in (
                Customer.objects.filter(company_id=locked.company_id, pk__in=unique_ids)
                .annotate(stale_id=Subquery(active_here))
                .values_list("pk", "timezone", "country", "subdivision", "stale_id")
            )
        }
        invoices: dict[UUID, tuple[UUID, datetime.date]] = {}
        without_invoice = 0
        if rules.anchored_on_due_date and found:
            invoices = earliest_open_invoices(found)
            without_invoice = len(found) - len(invoices)
            found = {customer_id: found[customer_id] for customer_id in found if customer_id in invoices}
        updated = 0
        if found:
            stale_ids = [stale_id for _, stale_id in found.values() if stale_id is not None]
            if stale_ids:  # usually none: skip both UPDATEs then
                updated = _complete(
                    Enrollment.objects.filter(pk__in=stale_ids), reason=STOP_REASON_RE_ENROLLED
                )[0]
            groups: dict[tuple, tuple[list[Enrollment], list[RowPlan]]] = {}
            starts: dict[str, datetime.date] = {}
            enrollments = []
            for customer_id, (target, _) in found.items():
                zone = rules.zone_for(target)
                start = start_date or starts.get(zone) or starts.setdefault(zone, local_today(zone, now=now))
                invoice_id, anchor_date = invoices.get(customer_id, (None, start))
                enrollment = Enrollment(
                    company_id=locked.company_id,
                    sequence_id=locked.pk,
                    customer_id=customer_id,
                    invoice_id=invoice_id,
                    start_date=start,
                    time_zone=zone,
                    created_by=created_by,
                )
                enrollments.append(enrollment)
                calendar = rules.calendar_for(target)
                group = groups.get((zone, calendar, anchor_date))
                if group is None:
                    plans = rules.rows(zone=zone, calendar=calendar, anchor_date=anchor_date, now=now)
                    group = groups[(zone, calendar, anchor_date)] = ([], plans)
                group[0].append(enrollment)
            Enrollment.objects.bulk_create(enrollments, batch_size=ENROLLMENT_BATCH_SIZE)
            born_cancelled = scheduled_rows_insert(groups=list(groups.values()))
            events_record(
                type=ENROLLMENT_CREATED,
                subject_type=ENROLLMENT,
                ids=[enrollment.pk for enrollment in enrollments],
            )
            events_record(type=QUEUE_ROW_CANCELLED, subject_type=QUEUE_ROW, ids=born_cancelled)
            if born_cancelled:  # those whose every row was held out are finished now (two statements)
                enrollments_finish_if_done(
                    enrollment_ids=ScheduledStep.objects.filter(pk__in=born_cancelled)
                    .values_list("enrollment_id", flat=True)
                    .distinct()
                )
    not_customers = len(unique_ids) - len(found) - without_invoice
    return BulkEnrollResult(
        enrolled_count=len(found) - updated,
        updated_count=updated,
        skipped_count=not_customers + without_invoice,
        no_open_invoice_count=without_invoice,
    )


def enrollment_stop(*, enrollment: Enrollment, reason: str | None = None) -> tuple[Enrollment, int]:
    """Complete one enrollment and cancel its `scheduled` rows (`ready` ones stay for a person).

    Idempotent: a completed enrollment is returned as it is with 0 cancelled. The completion is a
    conditional UPDATE, so of two concurrent stops exactly one completes it and reports the rows.
    """
    completed, cancelled = _complete(
        Enrollment.objects.filter(pk=enrollment.pk), reason=reason or STOP_REASON_DEFAULT
    )
    enrollment.refresh_from_db()
    return enrollment, cancelled if completed else 0


def enrollments_stop(*, enrollment_ids: Iterable[UUID], reason: str) -> int:
    """Complete the active ones among `enrollment_ids` and cancel their `scheduled` rows, set-based.

    Returns how many enrollments this call completed. Safe to call twice (the second stops none).
    """
    ids = list(enrollment_ids)
    if not ids:
        return 0
    return _complete(Enrollment.objects.filter(pk__in=ids), reason=reason)[0]


def enrollments_stop_for_sequence(*, sequence: Sequence, reason: str = STOP_REASON_ARCHIVED) -> int:
    """Complete every active enrollment of a sequence (archive) and cancel their scheduled rows."""
    return _complete(Enrollment.objects.filter(sequence_id=sequence.pk), reason=reason)[0]


def enrollments_stop_for_paid_invoice(*, invoice: Invoice) -> int:
    """After `invoice` was paid: stop the customer's active enrollments that reference it or, when the
    customer has no open invoice left, all of the customer's active enrollments ("paid").

    Runs inside the paying transaction (the `invoice_paid` signal), so it commits or rolls back with it.
    The customer row is locked before "is any invoice still open?": two payments of the customer's last
    two invoices would otherwise each see the other's invoice open and neither stop everything. NO KEY
    UPDATE still waits for an enroll's FOR SHARE on the customer, but not for foreign-key checks.
    """
    customers_lock(customer_ids=[invoice.customer_id])
    enrollments = Enrollment.objects.filter(customer_id=invoice.customer_id)
    has_open = Invoice.objects.filter(customer_id=invoice.customer_id, status=Invoice.Status.OPEN).exists()
    if has_open:
        enrollments = enrollments.filter(invoice_id=invoice.pk)
    return _complete(enrollments, reason=STOP_REASON_PAID)[0]


def enrollments_finish_if_done(*, enrollment_ids: Iterable[UUID]) -> int:
    """Complete ("finished") the active enrollments among `enrollment_ids` with no row left outside
    ScheduledStep.END_STATES. Returns how many it completed.

    The enrollments are locked (in id order) before the check: two transactions that each ended the
    last-but-one row would otherwise each see the other's row as still open and neither finish.
    """
    ids = sorted(set(enrollment_ids))
    if not ids:
        return 0
    with transaction.atomic():
        locked = list(
            Enrollment.objects.select_for_update()
            .filter(pk__in=ids, status__in=CURRENT_STATUSES)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not locked:
            return 0
        open_rows = ScheduledStep.objects.filter(enrollment_id=OuterRef("pk")).exclude(
            status__in=ScheduledStep.END_STATES
        )
        now = timezone.now()
        done = Enrollment.objects.filter(pk__in=locked, status__in=CURRENT_STATUSES)
        finished = update_returning_pks(
            done.exclude(Exists(open_rows)),
            status=Enrollment.Status.COMPLETED,
            stop_reason=STOP_REASON_FINISHED,
            completed_at=now,
            updated_at=now,
            **NOT_PAUSED,
        )
        events_record(type=ENROLLMENT_COMPLETED, subject_type=ENROLLMENT, ids=finished)
        return len(finished)


# --- helpers -------------------------------------------------------------------------------------


def _complete(enrollments: QuerySet[Enrollment], *, reason: str) -> tuple[int, int]:
    """Complete the active enrollments of `enrollments` and cancel their `scheduled` rows.

    Two set-based UPDATEs, rows first (see the lock order in the module docstring), then one
    `enrollment.completed` and one `queue_row.cancelled` statement for exactly the enrollments and rows
    those UPDATEs changed. Returns (enrollments completed, rows cancelled).
    """
    active = enrollments.filter(status__in=CURRENT_STATUSES)
    now = timezone.now()
    with transaction.atomic(savepoint=False):  # all or nothing; no savepoint needed inside a caller's
        cancelled = update_returning_pks(
            ScheduledStep.objects.filter(
                enrollment__in=active.values("pk"), status=ScheduledStep.Status.SCHEDULED
            ),
            status=ScheduledStep.Status.CANCELLED,
            processed_at=now,
            updated_at=now,
        )
        completed = update_returning_pks(
            active,
            status=Enrollment.Status.COMPLETED,
            stop_reason=reason,
            completed_at=now,
            updated_at=now,
            **NOT_PAUSED,
        )
        events_record(type=ENROLLMENT_COMPLETED, subject_type=ENROLLMENT, ids=completed)
        events_record(type=QUEUE_ROW_CANCELLED, subject_type=QUEUE_ROW, ids=cancelled)
    return len(completed), len(cancelled)


def _lock_sequence(sequence_id: UUID, *, exclusive: bool) -> Sequence:
    """Re-read the sequence inside the caller's transaction, locked.

    FOR SHARE (single enroll) lets enrolls run side by side while still conflicting with the UPDATE of
    an archive and with a bulk's FOR UPDATE. Django has no FOR SHARE, hence the raw query.
    """
    queryset = Sequence.objects.only(*PLANNING_FIELDS)
    if exclusive:
        return queryset.select_for_update().get(pk=sequence_id)
    columns = ", ".join(f'"{Sequence._meta.get_field(name).column}"' for name in PLANNING_FIELDS)
    sql = f'SELECT {columns} FROM "{Sequence._meta.db_table}" WHERE "id" = %s FOR SHARE'  # noqa: S608
    rows = list(Sequence.objects.raw(sql, [sequence_id]))
    if not rows:
        raise Sequence.DoesNotExist
    return rows[0]


def _share_lock_customers(company_id: UUID, customer_ids: list[UUID]) -> None:
    """Wait for, and hold off, owner changes of these customers until the enrollment commits.

    The rows' `ar_owner_id` is copied from the customer by a trigger at INSERT (PostgreSQL); without
    this FOR SHARE an owner change in flight would be missed by the copy and by its own trigger, which
    cannot see rows not yet committed. One statement in id order, so concurrent enrolls cannot deadlock.
    """
    if not customer_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "id" FROM "{Customer._meta.db_table}" '  # noqa: S608 (our table name)
            'WHERE "company_id" = %s AND "id" = ANY(%s) ORDER BY "id" FOR SHARE',
            [company_id, list(customer_ids)],
        )


def _require_active(sequence: Sequence) -> None:
    if sequence.status != Sequence.Status.ACTIVE:
        raise Conflict(
            f"Only active sequences accept enrollments; this one is {sequence.status}.",
            code="sequence_not_active",
        )


def _require_rules(sequence: Sequence) -> RulesPlanner:
    """The sequence's planner; no active step is a 409, since an enrollment with no row could never
    finish by itself."""
    rules = RulesPlanner.for_sequence(sequence)
    if not rules.steps:
        raise Conflict("This sequence has no active step to schedule.", code="no_active_step")
    return rules


def _active_enrollment(sequence_id: UUID, customer_id: UUID) -> Enrollment | None:
    return Enrollment.objects.filter(
        sequence_id=sequence_id, customer_id=customer_id, status__in=CURRENT_STATUSES
    ).first()

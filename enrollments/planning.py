"""From a sequence, a customer and an anchor date to the rows an enrollment gets: the calendar's glue.

`enrollments.calendar` is the pure rule ("when does this row go out"); this module reads what the rule
needs from the database (the sequence's steps and calendar settings, the customer's zone and holidays,
the company's fallback calendar, the invoice to anchor on) and applies `catch_up`. Enroll, bulk enroll,
preview and the due-date re-plan all plan through `RulesPlanner`, so they agree to the minute.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, replace
from uuid import UUID

from daylit.errors import Conflict
from daylit.models import Company, Customer, Invoice
from enrollments.calendar import HolidayCalendar, PlannedSend, SendPlanner, holiday_calendar
from enrollments.models import Enrollment
from enrollments.scheduling import local_today
from enrollments.variants import Range, step_ranges
from sequences.models import CALENDAR_SETTINGS, Sequence, SequenceStep

SKIPPED_AT_ENROLL = "skipped: already past when enrolled"
SKIPPED_AT_REPLAN = "skipped: already past when re-planned"


@dataclass(frozen=True)
class Step:
    id: UUID
    step_type: str
    label: str
    offset_days: int
    offset_time: datetime.time
    # The step's experiment as bucket ranges (enrollments.variants); () when it runs none. A tuple, so a
    # Step stays hashable (planned rows are cached per tuple of steps).
    ranges: tuple[Range, ...] = ()


@dataclass(frozen=True)
class RowPlan:
    step: Step
    scheduled_for: datetime.datetime  # aware UTC
    schedule_note: str | None
    skipped: bool = False  # catch_up "latest": created cancelled with `error` SKIPPED_AT_ENROLL


@dataclass(frozen=True)
class Target:
    """What planning needs of one customer (one read for a whole bulk)."""

    customer_id: UUID
    time_zone: str | None
    country: str | None
    subdivision: str | None


NO_OPEN_INVOICE = "no_open_invoice"


def no_open_invoice() -> Conflict:
    return Conflict(
        "This sequence times its steps from an invoice's due date, and the customer has no open invoice "
        "to chase; give invoice_id or add an open invoice.",
        code=NO_OPEN_INVOICE,
    )


def active_steps(sequence_id: UUID) -> list[Step]:
    """The sequence's active steps in schedule order, each with its experiment's ranges (one query)."""
    rows = (
        SequenceStep.objects.filter(sequence_id=sequence_id, is_active=True)
        .order_by("offset_days", "offset_time", "created_at", "id")
        .values_list("id", "step_type", "label", "offset_days", "offset_time", "variants", "holdout_percent")
    )
    return [
        Step(*row, ranges=step_ranges(variants=variants, holdout_percent=holdout_percent))
        for *row, variants, holdout_percent in rows
    ]


def targets(company_id: UUID, customer_ids: Iterable[UUID]) -> dict[UUID, Target]:
    rows = Customer.objects.filter(company_id=company_id, pk__in=list(customer_ids)).values_list(
        "pk", "timezone", "country", "subdivision"
    )
    return {row[0]: Target(*row) for row in rows}


def earliest_open_invoices(customer_ids: Iterable[UUID]) -> dict[UUID, tuple[UUID, datetime.date]]:
    """Each customer's open, undisputed invoice with the earliest due date: customer id -> (invoice id,
    due date).

    One query (DISTINCT ON); ties go to the invoice issued first, then the lower id, so the choice is
    stable.
    """
    rows = (
        Invoice.objects.filter(customer_id__in=list(customer_ids), status=Invoice.Status.OPEN, disputed=False)
        .order_by("customer_id", "due_date", "issue_date", "created_at", "id")
        .distinct("customer_id")
        .values_list("customer_id", "id", "due_date")
    )
    return {customer_id: (invoice_id, due) for customer_id, invoice_id, due in rows}


def cannot_plan(anchor_date: datetime.date, reason: Exception) -> Conflict:
    # Dates near year 9999 overflow, and a calendar with no send day within a year has no answer.
    return Conflict(
        f"No send time can be planned from {anchor_date.isoformat()} under this sequence's calendar "
        f"({reason}); check the date and the sequence's send days and holidays.",
        code="cannot_plan",
    )


class RulesPlanner:
    """One sequence's rules for any number of customers: a SendPlanner per (zone, holiday calendar),
    and each (zone, calendar, anchor date)'s rows planned once, since a bulk's customers share them."""

    def __init__(self, *, sequence: Sequence, company: Company | None, steps: list[Step]) -> None:
        """`company` gives the fallback holiday calendar; only read with `skip_holidays`."""
        self.sequence = sequence
        self.steps = steps
        self._company_calendar = (company.country, company.subdivision) if company else (None, None)
        window = None
        if sequence.send_window_start is not None and sequence.send_window_end is not None:
            window = (sequence.send_window_start, sequence.send_window_end)
        self._window = window
        self._planners: dict[tuple[str, HolidayCalendar | None], SendPlanner] = {}
        self._rows: dict[tuple, list[RowPlan]] = {}

    @classmethod
    def for_sequence(cls, sequence: Sequence) -> "RulesPlanner":
        company = None
        if sequence.skip_holidays:  # the only reader of the company's calendar: no query otherwise
            company = Company.objects.only("country", "subdivision").get(pk=sequence.company_id)
        return cls(sequence=sequence, company=company, steps=active_steps(sequence.pk))

    @property
    def anchored_on_due_date(self) -> bool:
        return self.sequence.anchor == Sequence.Anchor.INVOICE_DUE

    def zone_for(self, target: Target) -> str:
        """Step 1: the customer's zone when the sequence says so and the customer has one."""
        if self.sequence.time_zone_source == Sequence.TimeZoneSource.CUSTOMER and target.time_zone:
            return target.time_zone
        return self.sequence.timezone

    def calendar_for(self, target: Target) -> HolidayCalendar | None:
        if not self.sequence.skip_holidays:
            return None  # no holiday lookups at all, and one planner for every customer
        company_country, company_subdivision = self._company_calendar
        return holiday_calendar(
            customer_country=target.country,
            customer_subdivision=target.subdivision,
            company_country=company_country,
            company_subdivision=company_subdivision,
        )

    def rows(
        self,
        *,
        zone: str,
        calendar: HolidayCalendar | None,
        anchor_date: datetime.date,
        now: datetime.datetime,
        steps: list[Step] | None = None,
    ) -> list[RowPlan]:
        """The planned rows, with `catch_up` applied as at enrollment (`now`)."""
        key = (zone, calendar, anchor_date, now, None if steps is None else tuple(steps))
        found = self._rows.get(key)
        if found is None:
            planner = self._planner(zone, calendar)
            try:
                planned = [
                    RowPlan(step=step, scheduled_for=sent.instant, schedule_note=sent.note)
                    for step in (self.steps if steps is None else steps)
                    for sent in [
                        planner.plan(
                            anchor_date=anchor_date,
                            offset_days=step.offset_days,
                            offset_time=step.offset_time,
                        )
                    ]
                ]
            except (OverflowError, ValueError) as exc:
                raise cannot_plan(anchor_date, exc) from exc
            found = self._rows[key] = self.catch_up(planned, now=now)
        return found

    def catch_up(self, rows: list[RowPlan], *, now: datetime.datetime) -> list[RowPlan]:
        """`latest`: of the rows already past at `now`, those at the latest instant stay due and the
        earlier ones are marked skipped. `all` (Part 1): every past row is due at once."""
        if self.sequence.catch_up != Sequence.CatchUp.LATEST:
            return rows
        past = [row.scheduled_for for row in rows if row.scheduled_for <= now]
        if len(past) < 2:
            return rows
        latest = max(past)
        return [replace(row, skipped=True) if row.scheduled_for < latest else row for row in rows]

    def settle(
        self, *, zone: str, calendar: HolidayCalendar | None, instant: datetime.datetime
    ) -> PlannedSend:
        """`instant` if it obeys the rules, else moved on by planning steps 3-4 (resume with shift)."""
        try:
            return self._planner(zone, calendar).settle(instant)
        except (OverflowError, ValueError) as exc:
            raise cannot_plan(instant.date(), exc) from exc

    def _planner(self, zone: str, calendar: HolidayCalendar | None) -> SendPlanner:
        planner = self._planners.get((zone, calendar))
        if planner is None:
            planner = self._planners[(zone, calendar)] = SendPlanner(
                tz_name=zone,
                send_days=self.sequence.send_days,
                window=self._window,
                skip_holidays=self.sequence.skip_holidays,
                calendar=calendar,
            )
        return planner


def plan_enrollment(
    *,
    rules: RulesPlanner,
    customer: Customer,
    invoice: Invoice | None,
    start_date: datetime.date | None,
    now: datetime.datetime,
) -> tuple[Enrollment, list[RowPlan]]:
    """The enrollment (unsaved) and rows that enrolling `customer` at `now` would create; no writes.

    Enroll and preview both call this. 409 `no_open_invoice` for an `invoice_due` sequence when no
    invoice is given and the customer has no open one.
    """
    target = Target(customer.pk, customer.timezone, customer.country, customer.subdivision)
    zone = rules.zone_for(target)
    start = start_date or local_today(zone, now=now)
    anchor_date = start
    if rules.anchored_on_due_date:
        if invoice is None:
            found = earliest_open_invoices([customer.pk]).get(customer.pk)
            if found is None:
                raise no_open_invoice()
            invoice = Invoice.objects.get(pk=found[0])
        anchor_date = invoice.due_date
    enrollment = Enrollment(
        company_id=rules.sequence.company_id,
        sequence_id=rules.sequence.pk,
        customer_id=customer.pk,
        invoice=invoice,
        start_date=start,
        time_zone=zone,
    )
    plans = rules.rows(zone=zone, calendar=rules.calendar_for(target), anchor_date=anchor_date, now=now)
    return enrollment, plans


def sequence_for_planning(sequence_id: UUID) -> Sequence:
    """The fields planning reads, no lock (preview)."""
    return Sequence.objects.only(*PLANNING_FIELDS).get(pk=sequence_id)


PLANNING_FIELDS = (
    "id",
    "company_id",
    "status",
    "timezone",
    *CALENDAR_SETTINGS,
)

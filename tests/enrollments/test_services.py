import datetime

import pytest
from django.utils import timezone

from daylit.errors import Conflict
from daylit.models import Invoice
from daylit.services import invoice_update
from enrollments import services
from enrollments.models import Enrollment, ScheduledStep
from sequences.models import Sequence
from sequences.selectors import active_enrollment_count, steps_with_history
from sequences.signals import sequence_archived
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory, active_sequence_with_steps
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
Status = ScheduledStep.Status


def test_enroll_schedules_one_row_per_active_step_in_the_sequence_zone(company, sequence):
    SequenceStepFactory(sequence=sequence, offset_days=1, is_active=False)
    customer = CustomerFactory(company=company)
    enrollment, created = services.enrollment_create(
        sequence=sequence, customer=customer, start_date=datetime.date(2027, 3, 12)
    )
    assert created is True
    rows = list(enrollment.scheduled_steps.order_by("scheduled_for"))
    # 09:00 New York on Mar 12 (EST), Mar 15 and Mar 18 (EDT after the 14th).
    assert [r.scheduled_for for r in rows] == [
        datetime.datetime(2027, 3, 12, 14, 0, tzinfo=UTC),
        datetime.datetime(2027, 3, 15, 13, 0, tzinfo=UTC),
        datetime.datetime(2027, 3, 18, 13, 0, tzinfo=UTC),
    ]
    assert [r.step_type for r in rows] == ["reminder", "call", "task"]
    for row in rows:
        assert row.status == Status.SCHEDULED
        assert (row.company_id, row.sequence_id, row.customer_id) == (company.id, sequence.id, customer.id)
        assert row.step.is_active


def test_start_date_defaults_to_today_in_the_sequence_zone(company):
    sequence = active_sequence_with_steps(company=company, timezone_name="Pacific/Kiritimati")  # UTC+14
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))
    expected = timezone.now().astimezone(datetime.timezone(datetime.timedelta(hours=14))).date()
    assert enrollment.start_date == expected


def test_past_rows_are_simply_due(company, sequence):
    enrollment, _ = services.enrollment_create(
        sequence=sequence, customer=CustomerFactory(company=company), start_date=datetime.date(2020, 1, 1)
    )
    rows = enrollment.scheduled_steps.all()
    assert len(rows) == 3
    assert all(r.status == Status.SCHEDULED and r.scheduled_for < timezone.now() for r in rows)


@pytest.mark.parametrize("status", [Sequence.Status.DRAFT, Sequence.Status.ARCHIVED])
def test_only_active_sequences_accept_enrollments(company, status):
    sequence = SequenceFactory(company=company, status=status)
    customer = CustomerFactory(company=company)
    with pytest.raises(Conflict):
        services.enrollment_create(sequence=sequence, customer=customer)
    with pytest.raises(Conflict):
        services.enrollments_bulk_create(sequence=sequence, customer_ids=[customer.id])
    assert not Enrollment.objects.exists()


def test_second_enroll_returns_the_active_one(company, sequence):
    customer = CustomerFactory(company=company)
    first, created = services.enrollment_create(sequence=sequence, customer=customer)
    again, created_again = services.enrollment_create(sequence=sequence, customer=customer)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert ScheduledStep.objects.count() == 3


def test_enroll_again_after_stop_creates_a_new_one(company, sequence):
    customer = CustomerFactory(company=company)
    first, _ = services.enrollment_create(sequence=sequence, customer=customer)
    services.enrollment_stop(enrollment=first)
    second, created = services.enrollment_create(sequence=sequence, customer=customer)
    assert created and second.pk != first.pk


def test_stop_cancels_scheduled_rows_but_not_ready_ones_and_is_idempotent(company, sequence):
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))
    ready = enrollment.scheduled_steps.order_by("scheduled_for").first()
    ScheduledStep.objects.filter(pk=ready.pk).update(status=Status.READY)

    stopped, cancelled = services.enrollment_stop(enrollment=enrollment, reason="customer called")
    assert cancelled == 2
    assert stopped.status == Enrollment.Status.COMPLETED
    assert stopped.stop_reason == "customer called"
    assert stopped.completed_at is not None
    ready.refresh_from_db()
    assert ready.status == Status.READY

    again, cancelled_again = services.enrollment_stop(enrollment=enrollment)
    assert cancelled_again == 0
    assert again.stop_reason == "customer called"


def test_stop_reason_defaults_to_stopped(company, sequence):
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))
    stopped, _ = services.enrollment_stop(enrollment=enrollment)
    assert stopped.stop_reason == "stopped"


def test_enrollments_stop_is_set_based_and_counts_only_active_ones(company, sequence):
    enrollments = [
        services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))[0]
        for _ in range(3)
    ]
    services.enrollment_stop(enrollment=enrollments[0])
    ids = [e.pk for e in enrollments]
    assert services.enrollments_stop(enrollment_ids=ids, reason="replied") == 2
    assert services.enrollments_stop(enrollment_ids=ids, reason="replied") == 0
    assert services.enrollments_stop(enrollment_ids=[], reason="replied") == 0
    assert set(Enrollment.objects.values_list("stop_reason", flat=True)) == {"stopped", "replied"}
    assert not ScheduledStep.objects.filter(status=Status.SCHEDULED).exists()


def test_finish_if_done_completes_only_enrollments_with_every_row_ended():
    done = ScheduledStepFactory(status=Status.SENT).enrollment
    ScheduledStepFactory(enrollment=done, status=Status.CANCELLED)
    open_one = ScheduledStepFactory(status=Status.SENT).enrollment
    ScheduledStepFactory(enrollment=open_one, status=Status.READY)
    stopped = EnrollmentFactory(
        status=Enrollment.Status.COMPLETED, stop_reason="stopped", completed_at=timezone.now()
    )

    assert services.enrollments_finish_if_done(enrollment_ids=[done.pk, open_one.pk, stopped.pk]) == 1
    done.refresh_from_db(), open_one.refresh_from_db(), stopped.refresh_from_db()
    assert (done.status, done.stop_reason) == ("completed", "finished")
    assert open_one.status == "active"
    assert stopped.stop_reason == "stopped"
    assert services.enrollments_finish_if_done(enrollment_ids=[done.pk]) == 0


def test_archiving_completes_active_enrollments_and_cancels_their_rows(company, sequence):
    enrollments = [
        services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))[0]
        for _ in range(2)
    ]
    other = active_sequence_with_steps(company=company)
    untouched, _ = services.enrollment_create(sequence=other, customer=CustomerFactory(company=company))
    ScheduledStep.objects.filter(enrollment=enrollments[0]).update(status=Status.READY)

    sequence_archived.send(sender=Sequence, sequence=sequence)

    assert set(Enrollment.objects.filter(sequence=sequence).values_list("status", "stop_reason")) == {
        ("completed", "sequence_archived")
    }
    assert ScheduledStep.objects.filter(enrollment=enrollments[1], status=Status.CANCELLED).count() == 3
    assert ScheduledStep.objects.filter(enrollment=enrollments[0], status=Status.READY).count() == 3
    untouched.refresh_from_db()
    assert untouched.status == "active"
    assert ScheduledStep.objects.filter(enrollment=untouched, status=Status.SCHEDULED).count() == 3


def _pay(invoice):
    return invoice_update(invoice=invoice, data={"status": Invoice.Status.PAID})


def test_paying_an_invoice_stops_the_enrollments_that_reference_it(company, sequence):
    customer = CustomerFactory(company=company)
    first, second = InvoiceFactory(customer=customer), InvoiceFactory(customer=customer)
    on_first, _ = services.enrollment_create(sequence=sequence, customer=customer, invoice=first)
    other_sequence = active_sequence_with_steps(company=company)
    general, _ = services.enrollment_create(sequence=other_sequence, customer=customer)

    _pay(first)  # `second` is still open: only the enrollment about `first` stops
    on_first.refresh_from_db(), general.refresh_from_db()
    assert (on_first.status, on_first.stop_reason) == ("completed", "paid")
    assert general.status == "active"
    assert not ScheduledStep.objects.filter(enrollment=on_first, status=Status.SCHEDULED).exists()

    _pay(second)  # nothing open any more: everything of this customer stops
    general.refresh_from_db()
    assert (general.status, general.stop_reason) == ("completed", "paid")


def test_paying_leaves_other_customers_alone(company, sequence):
    payer, bystander = CustomerFactory(company=company), CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=payer)
    InvoiceFactory(customer=bystander)
    services.enrollment_create(sequence=sequence, customer=payer)
    theirs, _ = services.enrollment_create(sequence=sequence, customer=bystander)
    _pay(invoice)
    theirs.refresh_from_db()
    assert theirs.status == "active"
    assert Enrollment.objects.get(customer=payer).stop_reason == "paid"


def test_sequences_see_history_and_enrollments_through_reverse_relations(company, sequence):
    steps = list(sequence.steps.all())
    unused = SequenceStepFactory(sequence=sequence, is_active=False)
    assert steps_with_history([s.pk for s in steps]) == set()
    assert active_enrollment_count(sequence) == 0
    services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))
    assert steps_with_history([s.pk for s in steps] + [unused.pk]) == {s.pk for s in steps}
    assert active_enrollment_count(sequence) == 1


# --- bulk ------------------------------------------------------------------------------------------


def test_bulk_counts_duplicates_once_and_skips_unknown_and_foreign_ids(company, other_company, sequence):
    import uuid

    mine = CustomerFactory.create_batch(3, company=company)
    foreign = CustomerFactory(company=other_company)
    ids = [c.id for c in mine] + [mine[0].id, foreign.id, uuid.uuid4()]
    result = services.enrollments_bulk_create(
        sequence=sequence, customer_ids=ids, start_date=datetime.date(2027, 1, 4)
    )
    assert result == services.BulkEnrollResult(enrolled_count=3, updated_count=0, skipped_count=2)
    assert Enrollment.objects.filter(sequence=sequence, status="active").count() == 3
    assert ScheduledStep.objects.filter(sequence=sequence).count() == 9
    assert set(ScheduledStep.objects.values_list("scheduled_for", flat=True)) == {
        datetime.datetime(2027, 1, 4, 14, 0, tzinfo=UTC),
        datetime.datetime(2027, 1, 7, 14, 0, tzinfo=UTC),
        datetime.datetime(2027, 1, 10, 14, 0, tzinfo=UTC),
    }
    assert not Enrollment.objects.filter(customer=foreign).exists()


def test_bulk_re_enrolls_active_customers(company, sequence):
    kept, fresh = CustomerFactory(company=company), CustomerFactory(company=company)
    stale, _ = services.enrollment_create(
        sequence=sequence, customer=kept, start_date=datetime.date(2027, 1, 1)
    )
    first_row = stale.scheduled_steps.order_by("scheduled_for").first()
    ScheduledStep.objects.filter(pk=first_row.pk).update(status=Status.SENT)

    result = services.enrollments_bulk_create(
        sequence=sequence, customer_ids=[kept.id, fresh.id], start_date=datetime.date(2027, 2, 1)
    )
    assert result == services.BulkEnrollResult(enrolled_count=1, updated_count=1, skipped_count=0)
    stale.refresh_from_db()
    assert (stale.status, stale.stop_reason) == ("completed", "re_enrolled")
    assert sorted(stale.scheduled_steps.values_list("status", flat=True)) == [
        "cancelled",
        "cancelled",
        "sent",
    ]
    new = Enrollment.objects.get(customer=kept, status="active")
    assert new.start_date == datetime.date(2027, 2, 1)
    assert new.scheduled_steps.filter(status=Status.SCHEDULED).count() == 3


def test_bulk_of_10000_customers_is_a_handful_of_queries(company, sequence, django_assert_max_num_queries):
    from daylit.models import Customer

    for index in range(2):
        SequenceStepFactory(sequence=sequence, offset_days=10 + index)  # five steps in all
    customers = Customer.objects.bulk_create(
        [Customer(company=company, name=f"Customer {n}", email=f"c{n}@x.example") for n in range(10_000)]
    )
    already = customers[:100]
    services.enrollments_bulk_create(sequence=sequence, customer_ids=[c.id for c in already])

    # lock; steps; share-lock the customers; customers with their stale enrollments; 2 UPDATEs
    # (re-enrolled); INSERT enrollments; INSERT ... SELECT of the rows; 3 INSERT ... SELECTs of events
    # (enrollment.completed, queue_row.cancelled, enrollment.created). +2: the test's savepoint.
    with django_assert_max_num_queries(13):
        result = services.enrollments_bulk_create(sequence=sequence, customer_ids=[c.id for c in customers])

    assert result == services.BulkEnrollResult(enrolled_count=9_900, updated_count=100, skipped_count=0)
    assert Enrollment.objects.filter(sequence=sequence, status="active").count() == 10_000
    assert ScheduledStep.objects.filter(sequence=sequence, status=Status.SCHEDULED).count() == 50_000
    assert ScheduledStep.objects.filter(sequence=sequence, status=Status.CANCELLED).count() == 500

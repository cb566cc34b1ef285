import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from enrollments.models import Enrollment, ScheduledStep
from outreach_queue.services import queue_rows_promote
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CompanyFactory, CustomerFactory, InvoiceFactory, MemberFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory
from tests.outreach_queue.helpers import Status, due_row, past

pytestmark = pytest.mark.django_db


def test_due_reminder_becomes_ready_with_its_email_rendered(company):
    member = MemberFactory(company=company, user__first_name="Ada", user__last_name="Lovelace")
    sender = EmailConnectionFactory(company=company, member=member, email="ada@seller.example")
    sequence = SequenceFactory(company=company, status="active", sender_connection=sender)
    customer = CustomerFactory(company=company, name="Acme", email="ap@acme.example")
    InvoiceFactory(customer=customer, number="INV-NEW", due_date=datetime.date(2026, 12, 1))
    oldest = InvoiceFactory(
        customer=customer, number="INV-OLD", amount_due=Decimal("10.00"), due_date=datetime.date(2026, 10, 15)
    )
    step = SequenceStepFactory(
        sequence=sequence,
        subject_template="{{ invoice.number }} for {{ customer.name }}",
        body_plain_template="Total {{ total_due }} from {{ sender.name }} <{{ sender.email }}>",
        body_html_template="<p>{{ company.name }} {{ invoices|length }}</p>",
    )
    enrollment = EnrollmentFactory(sequence=sequence, customer=customer)
    row = ScheduledStepFactory(enrollment=enrollment, step=step, scheduled_for=past())

    assert queue_rows_promote() == 1
    row.refresh_from_db()
    assert row.status == Status.READY and row.ready_at is not None
    assert row.to_email == "ap@acme.example"
    assert row.subject == f"{oldest.number} for Acme"
    assert row.body_plain == "Total 1260.00 from Ada Lovelace <ada@seller.example>"
    assert row.body_html == f"<p>{company.name} 2</p>"


def test_the_enrollments_own_invoice_wins_over_the_oldest(company):
    customer = CustomerFactory(company=company)
    InvoiceFactory(customer=customer, number="INV-OLDEST", due_date=datetime.date(2026, 10, 2))
    chosen = InvoiceFactory(customer=customer, number="INV-CHOSEN")
    row = due_row(company, customer=customer)
    Enrollment.objects.filter(pk=row.enrollment_id).update(invoice=chosen)
    row.step.subject_template = "{{ invoice.number }}"
    row.step.save()
    queue_rows_promote()
    row.refresh_from_db()
    assert row.subject == "INV-CHOSEN"


def test_sender_name_falls_back_to_the_connection_email(company):
    sender = EmailConnectionFactory(company=company, member=None, email="ar@seller.example")
    sequence = SequenceFactory(company=company, status="active", sender_connection=sender)
    row = due_row(company, sequence=sequence)
    row.step.subject_template = "From {{ sender.name }}"
    row.step.save()
    queue_rows_promote()
    row.refresh_from_db()
    assert row.subject == "From ar@seller.example"


def test_calls_and_tasks_become_ready_without_an_email(company):
    call = due_row(company, step_type="call")
    task = due_row(company, step_type="task")
    assert queue_rows_promote() == 2
    for row in (call, task):
        row.refresh_from_db()
        assert row.status == Status.READY and row.subject == "" and row.to_email == ""


def test_future_rows_and_rows_of_completed_enrollments_stay_scheduled(company):
    future = due_row(company, scheduled_for=timezone.now() + datetime.timedelta(hours=1))
    stopped = due_row(company)
    Enrollment.objects.filter(pk=stopped.enrollment_id).update(
        status="completed", completed_at=timezone.now()
    )
    assert queue_rows_promote() == 0
    for row in (future, stopped):
        row.refresh_from_db()
        assert row.status == Status.SCHEDULED


def test_a_row_that_cannot_render_fails_with_the_reason_and_finishes_its_enrollment(company):
    customer = CustomerFactory(company=company)  # no invoice at all
    row = due_row(company, customer=customer)
    queue_rows_promote()
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.processed_at is not None
    assert "invoice" in row.error and row.error.startswith("Could not render")
    enrollment = Enrollment.objects.get(pk=row.enrollment_id)
    assert enrollment.status == "completed" and enrollment.stop_reason == "finished"


def test_customer_without_email_is_ready_with_a_warning(company):
    customer = CustomerFactory(company=company, email="")
    InvoiceFactory(customer=customer)
    row = due_row(company, customer=customer)
    queue_rows_promote()
    row.refresh_from_db()
    assert row.status == Status.READY and row.to_email == "" and "to_email" in row.error


def test_company_scope_promotes_only_that_company(company):
    other = CompanyFactory()
    mine, theirs = due_row(company), due_row(other)
    assert queue_rows_promote(company=company) == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (Status.READY, Status.SCHEDULED)


def test_batches_until_done_and_second_pass_is_a_no_op(company):
    rows = [due_row(company) for _ in range(7)]
    assert queue_rows_promote(batch_size=3) == 7
    assert queue_rows_promote(batch_size=3) == 0
    assert set(
        ScheduledStep.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)
    ) == {Status.READY}


def test_a_read_with_nothing_due_costs_one_query(company, django_assert_num_queries):
    due_row(company, scheduled_for=timezone.now() + datetime.timedelta(hours=1))
    stopped = due_row(company)
    Enrollment.objects.filter(pk=stopped.enrollment_id).update(
        status="completed", completed_at=timezone.now()
    )
    with django_assert_num_queries(1):  # the probe; no transaction, no locking batch
        assert queue_rows_promote(company=company) == 0


def test_query_count_does_not_grow_with_the_batch(company, django_assert_max_num_queries):
    sequence = SequenceFactory(
        company=company, status="active", sender_connection=EmailConnectionFactory(company=company)
    )
    for _ in range(30):
        due_row(company, sequence=sequence)
    with django_assert_max_num_queries(12):
        assert queue_rows_promote() == 30


@pytest.mark.django_db(transaction=True)
def test_two_passes_at_once_promote_each_row_once():
    company = CompanyFactory()
    sequence = SequenceFactory(
        company=company, status="active", sender_connection=EmailConnectionFactory(company=company)
    )
    for _ in range(40):
        due_row(company, sequence=sequence)
    results, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(queue_rows_promote(batch_size=5))
        finally:
            db_connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 40
    assert ScheduledStep.objects.filter(status=Status.READY).count() == 40

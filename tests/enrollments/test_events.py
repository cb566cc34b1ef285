"""`enrollment.created` and `enrollment.completed` (with the `queue_row.cancelled` of the rows a completion
cancels), from every path that creates or completes an enrollment: the API, admin actions, archiving a
sequence, paying an invoice, the last row settling. Each is recorded in the transaction of the change,
set-based where the change is, and never for a change that was refused or rolled back."""

from uuid import UUID

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from daylit.models import Invoice
from enrollments import services
from enrollments.api.serializers import EnrollmentSerializer
from enrollments.models import Enrollment, ScheduledStep
from events.models import Event
from events.types import ENROLLMENT_COMPLETED, ENROLLMENT_CREATED, QUEUE_ROW_CANCELLED, QUEUE_ROW_COMPLETED
from outreach_queue.services import queue_row_cancel, queue_rows_promote
from sequences.models import Sequence
from sequences.signals import sequence_archived
from tests.conftest import company_url
from tests.events.emission import event_data, recorded
from tests.events.helpers import as_api_json
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db

Status = ScheduledStep.Status


def enroll_url(company, path: str = "") -> str:
    return company_url(company, "sequence-enrollments" + path)


def api_enrollment(enrollment_id) -> dict:
    return as_api_json(EnrollmentSerializer(Enrollment.objects.get(pk=enrollment_id)).data)


def scheduled_rows(enrollment_ids) -> set:
    return set(
        ScheduledStep.objects.filter(enrollment_id__in=enrollment_ids, status=Status.SCHEDULED).values_list(
            "pk", flat=True
        )
    )


def enrolled(sequence, count: int = 1) -> list[Enrollment]:
    """Enrollments made through the service, their creation events cleared (the tests look at what
    follows)."""
    enrollments = [
        services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=sequence.company))[0]
        for _ in range(count)
    ]
    Event.objects.all().delete()
    return enrollments


def assert_completed(enrollments, *, reason: str, cancelled: set) -> None:
    """Exactly: one `enrollment.completed` per enrollment (data as the API shows it now) and one
    `queue_row.cancelled` per row in `cancelled`."""
    ids = {enrollment.pk for enrollment in enrollments}
    assert sorted(recorded(), key=str) == sorted(
        [(ENROLLMENT_COMPLETED, pk) for pk in ids] + [(QUEUE_ROW_CANCELLED, pk) for pk in cancelled], key=str
    )
    for pk in ids:
        data = event_data(ENROLLMENT_COMPLETED, pk)
        assert data == api_enrollment(pk) and data["stop_reason"] == reason
    for pk in cancelled:
        assert event_data(QUEUE_ROW_CANCELLED, pk)["status"] == "cancelled"


# --- enrollment.created -------------------------------------------------------------------------------


def test_enrolling_through_the_api_records_created_once(api, company, sequence):
    customer = CustomerFactory(company=company)
    body = {"sequence_id": str(sequence.pk), "customer_id": str(customer.pk)}
    first = api.post(enroll_url(company), body, format="json")
    assert first.status_code == 201
    enrollment = first.json()["enrollment"]
    assert recorded() == [(ENROLLMENT_CREATED, UUID(enrollment["id"]))]
    assert event_data(ENROLLMENT_CREATED, enrollment["id"]) == enrollment

    again = api.post(enroll_url(company), body, format="json")  # the active one, 200 created: false
    assert again.status_code == 200 and again.json()["created"] is False
    assert recorded() == [(ENROLLMENT_CREATED, UUID(enrollment["id"]))]


def test_an_enroll_refused_with_409_records_nothing(api, company):
    draft = SequenceFactory(company=company, status=Sequence.Status.DRAFT)
    SequenceStepFactory(sequence=draft)
    customer = CustomerFactory(company=company)
    response = api.post(
        enroll_url(company), {"sequence_id": str(draft.pk), "customer_id": str(customer.pk)}, format="json"
    )
    assert response.status_code == 409
    assert recorded() == []


def test_an_enroll_that_rolls_back_leaves_no_event(company, sequence):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))
        assert recorded(ENROLLMENT_CREATED) != []  # written, in the transaction ...
        raise RuntimeError("the request fails after enrolling")
    assert recorded() == []  # ... and gone with it


def test_bulk_enroll_records_created_for_new_and_re_enrolled_customers_and_completes_the_stale(
    api, company, sequence
):
    customers = CustomerFactory.create_batch(4, company=company)
    stale = [
        services.enrollment_create(sequence=sequence, customer=customer)[0] for customer in customers[:2]
    ]
    stale_rows = scheduled_rows([e.pk for e in stale])
    Event.objects.all().delete()

    response = api.post(
        company_url(company, f"sequences/{sequence.pk}/enrollments/bulk"),
        {"customer_ids": [str(c.pk) for c in customers]},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["enrolled_count"], response.json()["updated_count"]) == (2, 2)

    new = set(Enrollment.objects.filter(sequence=sequence, status="active").values_list("pk", flat=True))
    assert len(new) == 4
    assert sorted(recorded(ENROLLMENT_CREATED), key=str) == sorted(
        [(ENROLLMENT_CREATED, pk) for pk in new], key=str
    )
    for pk in new:
        assert event_data(ENROLLMENT_CREATED, pk) == api_enrollment(pk)
    for enrollment in stale:
        assert event_data(ENROLLMENT_COMPLETED, enrollment.pk)["stop_reason"] == "re_enrolled"
    assert set(recorded(ENROLLMENT_COMPLETED)) == {(ENROLLMENT_COMPLETED, e.pk) for e in stale}
    assert set(recorded(QUEUE_ROW_CANCELLED)) == {(QUEUE_ROW_CANCELLED, pk) for pk in stale_rows}
    assert len(recorded()) == 4 + 2 + len(stale_rows)


def _bulk_queries(sequence, count: int) -> int:
    """Queries of a bulk enroll of `count` new customers that also re-enrolls `count` active ones."""
    active = [
        services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=sequence.company))[0]
    ]
    active += enrolled(sequence, count - 1)
    ids = [e.customer_id for e in active] + [
        c.pk for c in CustomerFactory.create_batch(count, company=sequence.company)
    ]
    Event.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        services.enrollments_bulk_create(sequence=sequence, customer_ids=ids)
    assert Event.objects.filter(type=ENROLLMENT_CREATED).count() == 2 * count
    assert Event.objects.filter(type=ENROLLMENT_COMPLETED).count() == count
    assert Event.objects.filter(type=QUEUE_ROW_CANCELLED).count() == 3 * count
    return len(queries)


def test_bulk_enroll_events_cost_the_same_queries_for_any_number_of_customers(company, sequence):
    assert _bulk_queries(sequence, 2) == _bulk_queries(sequence, 40)


# --- enrollment.completed -----------------------------------------------------------------------------


def test_stopping_through_the_api_records_completed_and_the_cancelled_rows(api, company, sequence):
    (enrollment,) = enrolled(sequence)
    rows = scheduled_rows([enrollment.pk])
    assert len(rows) == 3
    response = api.post(
        enroll_url(company, f"/{enrollment.pk}/stop"), {"stop_reason": "paid by wire"}, format="json"
    )
    assert response.status_code == 200
    assert_completed([enrollment], reason="paid by wire", cancelled=rows)
    assert event_data(ENROLLMENT_COMPLETED, enrollment.pk) == response.json()["enrollment"]

    before = recorded()
    again = api.post(enroll_url(company, f"/{enrollment.pk}/stop"), {}, format="json")  # 200, 0 cancelled
    assert again.status_code == 200 and recorded() == before


def test_stopping_in_admin_records_completed_for_each_selected(admin_client, sequence):
    enrollments = enrolled(sequence, 2)
    rows = scheduled_rows([e.pk for e in enrollments])
    response = admin_client.post(
        "/admin/enrollments/enrollment/",
        {"action": "stop_selected", "_selected_action": [str(e.pk) for e in enrollments]},
        follow=True,
    )
    assert response.status_code == 200
    assert_completed(enrollments, reason="stopped", cancelled=rows)


def test_archiving_through_the_api_completes_every_active_enrollment(api, company, sequence):
    enrollments = enrolled(sequence, 3)
    services.enrollment_stop(enrollment=enrollments[0])  # already completed: no second event
    Event.objects.all().delete()
    rows = scheduled_rows([e.pk for e in enrollments])
    response = api.post(
        company_url(company, f"sequences/{sequence.pk}"), {"action": "archive"}, format="json"
    )
    assert response.status_code == 200
    assert_completed(enrollments[1:], reason="sequence_archived", cancelled=rows)


def test_archiving_in_admin_completes_every_active_enrollment(admin_client, sequence):
    enrollments = enrolled(sequence, 2)
    rows = scheduled_rows([e.pk for e in enrollments])
    response = admin_client.post(
        "/admin/sequences/sequence/",
        {"action": "archive", "_selected_action": [str(sequence.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert_completed(enrollments, reason="sequence_archived", cancelled=rows)


def _archive_queries(company, count: int) -> int:
    from sequences.services import sequence_apply_action
    from tests.factories.enrollments import active_sequence_with_steps

    target = active_sequence_with_steps(company=company)
    enrolled(target, count)
    with CaptureQueriesContext(connection) as queries:
        sequence_apply_action(sequence=target, action="archive")
    assert Event.objects.filter(type=ENROLLMENT_COMPLETED).count() == count
    assert Event.objects.filter(type=QUEUE_ROW_CANCELLED).count() == 3 * count
    return len(queries)


def test_archive_events_cost_the_same_queries_for_any_number_of_enrollments(company):
    assert _archive_queries(company, 2) == _archive_queries(company, 30)


def test_an_archive_that_rolls_back_leaves_no_event(company, sequence):
    from sequences.services import sequence_apply_action

    enrolled(sequence, 2)

    def failing(sender, sequence, **kwargs):  # runs after the enrollments app's receiver
        raise RuntimeError("a later receiver fails")

    sequence_archived.connect(failing, dispatch_uid="test-emission-fail")
    try:
        with pytest.raises(RuntimeError):
            sequence_apply_action(sequence=sequence, action="archive")
    finally:
        sequence_archived.disconnect(dispatch_uid="test-emission-fail")
    assert recorded() == []
    assert Enrollment.objects.filter(sequence=sequence, status="active").count() == 2


def test_paying_an_invoice_through_the_api_completes_the_enrollments_chasing_it(api, company, sequence):
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer)
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=customer, invoice=invoice)
    (other_customers,) = enrolled(sequence)  # another customer's enrollment: untouched
    rows = scheduled_rows([enrollment.pk])
    response = api.patch(company_url(company, f"invoices/{invoice.pk}"), {"status": "paid"}, format="json")
    assert response.status_code == 200
    assert_completed([enrollment], reason="paid", cancelled=rows)
    assert Enrollment.objects.get(pk=other_customers.pk).status == "active"


def test_marking_paid_in_admin_completes_the_enrollments(admin_client, company, sequence):
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer)
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=customer)
    Event.objects.all().delete()
    rows = scheduled_rows([enrollment.pk])
    response = admin_client.post(
        "/admin/daylit/invoice/", {"action": "mark_paid", "_selected_action": [str(invoice.pk)]}, follow=True
    )
    assert response.status_code == 200 and Invoice.objects.get(pk=invoice.pk).status == "paid"
    assert_completed([enrollment], reason="paid", cancelled=rows)


def test_the_last_row_settling_records_finished(api, company, sequence):
    """Cancel, complete (API) and the last row failing at promotion each finish the enrollment."""
    (enrollment,) = enrolled(sequence)
    rows = list(ScheduledStep.objects.filter(enrollment=enrollment).order_by("scheduled_for"))
    ScheduledStep.objects.filter(pk=rows[2].pk).update(status=Status.READY)  # a call or task due now
    queue_row_cancel(row=rows[0])
    assert recorded(ENROLLMENT_COMPLETED) == []  # two rows still open
    assert api.post(company_url(company, f"sequences/queue/{rows[1].pk}/cancel")).status_code == 200
    assert recorded(ENROLLMENT_COMPLETED) == []
    assert (
        api.post(
            company_url(company, f"sequences/queue/{rows[2].pk}/complete"), {}, format="json"
        ).status_code
        == 200
    )
    assert recorded() == [
        (QUEUE_ROW_CANCELLED, rows[0].pk),
        (QUEUE_ROW_CANCELLED, rows[1].pk),
        (QUEUE_ROW_COMPLETED, rows[2].pk),
        (ENROLLMENT_COMPLETED, enrollment.pk),
    ]
    data = event_data(ENROLLMENT_COMPLETED, enrollment.pk)
    assert data == api_enrollment(enrollment.pk) and data["stop_reason"] == "finished"


def test_a_last_row_failing_at_promotion_records_finished(company):
    from tests.outreach_queue.helpers import due_row

    row = due_row(company, customer=CustomerFactory(company=company))  # no invoice: cannot render
    Event.objects.all().delete()
    queue_rows_promote(company=company)
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert recorded() == [("queue_row.failed", row.pk), (ENROLLMENT_COMPLETED, row.enrollment_id)]
    assert event_data(ENROLLMENT_COMPLETED, row.enrollment_id)["stop_reason"] == "finished"

"""Races for real: threads, each on its own PostgreSQL connection, released together by a barrier."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from enrollments import services
from enrollments.models import Enrollment, ScheduledStep
from tests.conftest import company_url
from tests.factories.core import CustomerFactory
from tests.factories.enrollments import active_sequence_with_steps

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


def run_together(*jobs: Callable[[], object]) -> list[object]:
    """Run each job in its own thread, all starting at once; return results (or raised exceptions)."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except Exception as exc:  # noqa: BLE001  (reported to the test, which asserts on it)
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_enrolls_of_one_customer_make_one_enrollment(company):
    sequence = active_sequence_with_steps(company=company)
    customer = CustomerFactory(company=company)

    results = run_together(
        *[lambda: services.enrollment_create(sequence=sequence, customer=customer) for _ in range(THREADS)]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(created for _, created in results) == [False] * (THREADS - 1) + [True]
    assert len({enrollment.pk for enrollment, _ in results}) == 1
    assert Enrollment.objects.filter(customer=customer, status="active").count() == 1
    assert Enrollment.objects.count() == 1
    assert ScheduledStep.objects.count() == 3


def test_concurrent_enroll_requests_answer_201_once_and_200_otherwise(company, token):
    sequence = active_sequence_with_steps(company=company)
    customer = CustomerFactory(company=company)
    body = {"sequence_id": str(sequence.id), "customer_id": str(customer.id)}

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.post(company_url(company, "sequence-enrollments"), body, format="json")
        return response.status_code, response.json()["enrollment"]["id"]

    results = run_together(*[post for _ in range(THREADS)])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(code for code, _ in results) == [200] * (THREADS - 1) + [201]
    assert len({enrollment_id for _, enrollment_id in results}) == 1


def test_bulk_racing_single_enrolls_leaves_one_active_enrollment_per_customer(company):
    sequence = active_sequence_with_steps(company=company)
    customers = CustomerFactory.create_batch(20, company=company)
    contested = customers[0]

    def bulk():
        return services.enrollments_bulk_create(sequence=sequence, customer_ids=[c.id for c in customers])

    def single():
        return services.enrollment_create(sequence=sequence, customer=contested)

    results = run_together(bulk, *[single for _ in range(THREADS - 1)])

    assert not [r for r in results if isinstance(r, Exception)], results
    for customer in customers:
        assert Enrollment.objects.filter(sequence=sequence, customer=customer, status="active").count() == 1
    active = Enrollment.objects.filter(status="active")
    assert ScheduledStep.objects.filter(enrollment__in=active, status="scheduled").count() == 3 * len(
        customers
    )
    # Whatever ran first, nothing stale is left scheduled.
    assert not ScheduledStep.objects.filter(enrollment__status="completed", status="scheduled").exists()


def test_concurrent_stops_cancel_the_rows_once(company):
    sequence = active_sequence_with_steps(company=company)
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))

    results = run_together(*[lambda: services.enrollment_stop(enrollment=enrollment) for _ in range(THREADS)])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(cancelled for _, cancelled in results) == [0] * (THREADS - 1) + [3]
    assert ScheduledStep.objects.filter(status="cancelled").count() == 3


def test_archive_racing_enrolls_leaves_no_active_enrollment(company):
    from sequences.services import sequence_apply_action

    sequence = active_sequence_with_steps(company=company)
    customers = CustomerFactory.create_batch(THREADS - 1, company=company)

    def archive():
        return sequence_apply_action(sequence=sequence, action="archive")

    def enroll(customer):
        return lambda: services.enrollment_create(sequence=sequence, customer=customer)

    results = run_together(archive, *[enroll(c) for c in customers])

    assert not isinstance(results[0], Exception), results[0]
    # Each enroll either ran before the archive (and was then completed by it) or saw it and got a 409.
    for result in results[1:]:
        assert not isinstance(result, Exception) or getattr(result, "status_code", None) == 409, result
    assert not Enrollment.objects.filter(sequence=sequence, status="active").exists()
    assert not ScheduledStep.objects.filter(sequence=sequence, status="scheduled").exists()


def test_rows_ending_concurrently_still_finish_the_enrollment(company):
    """Two transactions each end one of the last two rows and ask to finish: one of them must see both."""
    from django.db import transaction

    sequence = active_sequence_with_steps(company=company, steps=2)
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))
    row_ids = list(enrollment.scheduled_steps.values_list("pk", flat=True))

    both_rows_ended = threading.Barrier(len(row_ids))

    def end(row_id):
        def job():
            with transaction.atomic():
                ScheduledStep.objects.filter(pk=row_id).update(status="sent")
                both_rows_ended.wait(timeout=10)  # neither has committed: each sees the other's row open
                return services.enrollments_finish_if_done(enrollment_ids=[enrollment.pk])

        return job

    results = run_together(*[end(row_id) for row_id in row_ids])

    assert not [r for r in results if isinstance(r, Exception)], results
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason) == ("completed", "finished")
    assert sorted(results) == [0, 1]


def test_paying_the_last_two_open_invoices_at_once_stops_every_enrollment(company):
    """Payment A checks "any invoice open?" and, before it commits, payment B checks too: without the
    customer lock each sees the other's invoice open and the invoice-less enrollment stays active."""
    from daylit.services import invoice_update
    from daylit.signals import invoice_paid
    from tests.factories.core import InvoiceFactory

    sequence = active_sequence_with_steps(company=company)
    customer = CustomerFactory(company=company)
    first, second = InvoiceFactory(customer=customer), InvoiceFactory(customer=customer)
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=customer)
    first_checked, second_checked = threading.Event(), threading.Event()

    def interleave(sender, invoice, **kwargs):  # runs after the enrollments receiver's check
        if invoice.pk == first.pk:
            first_checked.set()
            second_checked.wait(timeout=2)  # with the lock, B cannot check before A commits
        else:
            second_checked.set()

    def pay_second():
        first_checked.wait(timeout=10)
        return invoice_update(invoice=second, data={"status": "paid"})

    invoice_paid.connect(interleave)
    try:
        results = run_together(lambda: invoice_update(invoice=first, data={"status": "paid"}), pay_second)
    finally:
        invoice_paid.disconnect(interleave)

    assert not [r for r in results if isinstance(r, Exception)], results
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason) == ("completed", "paid")


@pytest.mark.parametrize("bulk", [False, True])
def test_an_owner_change_in_flight_reaches_the_rows_of_a_new_enrollment(company, bulk):
    """The owner change is written but not committed when the enroll starts: the enroll must wait for
    it, or the rows' copied ar_owner_id stays the old owner for good."""
    from django.db import transaction

    from daylit.models import Customer
    from tests.factories.core import MemberFactory

    sequence = active_sequence_with_steps(company=company)
    customer = CustomerFactory(company=company, ar_owner=None)
    owner = MemberFactory(company=company)
    changed, enrolled = threading.Event(), threading.Event()

    def change_owner():
        with transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(ar_owner=owner)
            changed.set()
            enrolled.wait(timeout=2)  # with the lock the enroll cannot finish before this commits

    def enroll():
        changed.wait(timeout=10)
        if bulk:
            services.enrollments_bulk_create(sequence=sequence, customer_ids=[customer.pk])
        else:
            services.enrollment_create(sequence=sequence, customer=customer)
        enrolled.set()

    results = run_together(change_owner, enroll)
    assert not [r for r in results if isinstance(r, Exception)], results
    owners = set(ScheduledStep.objects.filter(customer=customer).values_list("ar_owner_id", flat=True))
    assert owners == {owner.pk}

"""What promises to pay and disputes do to enrollments, through the API: pause until the promise is due,
resume when it is broken or cancelled, stop chasing a disputed invoice, resume or complete on resolve."""

import datetime

import pytest
from django.utils import timezone

from daylit.promises import promises_settle
from enrollments.models import Enrollment
from events.models import Event
from events.types import ENROLLMENT_PAUSED, ENROLLMENT_RESUMED
from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import active_sequence_with_steps

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture
def account(api, company):
    """A customer with two open invoices, an enrollment on each and one chasing the whole balance."""
    customer = CustomerFactory(company=company)
    first, second = InvoiceFactory(customer=customer), InvoiceFactory(customer=customer)

    def enroll(invoice):
        body = {
            "sequence_id": str(active_sequence_with_steps(company=company).id),
            "customer_id": str(customer.id),
        }
        if invoice is not None:
            body["invoice_id"] = str(invoice.id)
        response = api.post(company_url(company, "sequence-enrollments"), body, format="json")
        assert response.status_code == 201, response.json()
        return Enrollment.objects.get(pk=response.json()["enrollment"]["id"])

    return customer, first, second, enroll(first), enroll(second), enroll(None)


def promise(api, company, invoice, days=10):
    promised = (timezone.now() + datetime.timedelta(days=days)).date()
    response = api.post(
        company_url(company, f"invoices/{invoice.id}/promises"),
        {"promised_date": str(promised)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json(), promised


def dispute(api, company, invoice):
    response = api.post(
        company_url(company, f"invoices/{invoice.id}/disputes"), {"reason": "pricing"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def state(enrollment):
    enrollment.refresh_from_db()
    return enrollment.status, enrollment.pause_reason


def deadline(promised: datetime.date, grace_days: int) -> datetime.datetime:
    return datetime.datetime.combine(
        promised + datetime.timedelta(days=grace_days + 1), datetime.time(0), tzinfo=UTC
    )


def test_a_promise_pauses_what_chases_its_invoice_until_it_is_due(api, company, account):
    _, first, _, on_first, on_second, on_balance = account
    _, promised = promise(api, company, first)
    assert state(on_first) == state(on_balance) == ("paused", "promise")
    assert state(on_second) == ("active", None)
    assert on_first.paused_until == deadline(promised, company.promise_grace_days)
    assert Event.objects.filter(type=ENROLLMENT_PAUSED, subject_id=on_first.pk).exists()

    # A new promise moves the pause to its own deadline.
    _, later = promise(api, company, first, days=20)
    on_first.refresh_from_db()
    assert on_first.paused_until == deadline(later, company.promise_grace_days)


def test_a_cancelled_promise_resumes_what_it_paused(api, company, account):
    _, first, _, on_first, _, on_balance = account
    made, _ = promise(api, company, first)
    response = api.post(company_url(company, f"promises/{made['id']}/cancel"), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert state(on_first) == state(on_balance) == ("active", None)
    assert Event.objects.filter(type=ENROLLMENT_RESUMED, subject_id=on_first.pk).exists()


def test_a_broken_promise_resumes_and_a_kept_one_completes(api, company, account):
    customer, first, second, on_first, on_second, on_balance = account
    _, promised = promise(api, company, first)
    promises_settle(now=deadline(promised, company.promise_grace_days) - datetime.timedelta(seconds=1))
    assert state(on_first) == ("paused", "promise")  # a second before the deadline: still open

    promises_settle(now=deadline(promised, company.promise_grace_days))
    assert state(on_first) == state(on_balance) == ("active", None)

    # Kept: paid while promised. The payment completes the invoice's enrollment; the one chasing the
    # balance goes on with the other invoice.
    promise(api, company, second)
    assert state(on_second) == state(on_balance) == ("paused", "promise")
    paid = api.patch(company_url(company, f"invoices/{second.id}"), {"status": "paid"}, format="json")
    assert paid.status_code == 200, paid.json()
    on_second.refresh_from_db()
    assert (on_second.status, on_second.stop_reason) == ("completed", "paid")
    assert state(on_balance) == ("active", None)


def test_a_dispute_on_one_of_two_invoices_pauses_only_that_invoices_enrollment(api, company, account):
    _, first, _, on_first, on_second, on_balance = account
    opened = dispute(api, company, first)
    assert state(on_first) == ("paused", "dispute") and on_first.paused_until is None
    assert state(on_second) == state(on_balance) == ("active", None)  # the balance still has the second

    response = api.post(
        company_url(company, f"disputes/{opened['id']}/resolve"), {"resolution": "rejected"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert state(on_first) == ("active", None)


def test_a_dispute_on_the_last_open_invoice_pauses_the_balance_and_upheld_completes(api, company, account):
    _, first, second, on_first, on_second, on_balance = account
    dispute(api, company, first)
    opened = dispute(api, company, second)
    assert state(on_second) == state(on_balance) == ("paused", "dispute")

    response = api.post(
        company_url(company, f"disputes/{opened['id']}/resolve"), {"resolution": "upheld"}, format="json"
    )
    assert response.status_code == 200, response.json()
    on_second.refresh_from_db()
    assert (on_second.status, on_second.stop_reason) == ("completed", "dispute_upheld")
    # The first dispute is still open: the balance waits for it instead of ending with the second.
    assert state(on_first) == state(on_balance) == ("paused", "dispute")


def test_the_balance_completes_when_the_last_open_dispute_is_upheld(api, company, account):
    _, first, _, on_first, _, on_balance = account
    api.patch(company_url(company, f"invoices/{account[2].id}"), {"status": "paid"}, format="json")
    opened = dispute(api, company, first)
    assert state(on_balance) == ("paused", "dispute")
    response = api.post(
        company_url(company, f"disputes/{opened['id']}/resolve"), {"resolution": "upheld"}, format="json"
    )
    assert response.status_code == 200, response.json()
    for enrollment in (on_first, on_balance):
        enrollment.refresh_from_db()
        assert (enrollment.status, enrollment.stop_reason) == ("completed", "dispute_upheld")


def test_the_balance_stays_paused_until_the_last_of_the_customers_promises_ends(api, company, account):
    _, first, second, on_first, on_second, on_balance = account
    first_made, _ = promise(api, company, first, days=20)
    _, sooner = promise(api, company, second, days=5)
    on_balance.refresh_from_db()
    assert on_balance.paused_until > deadline(sooner, company.promise_grace_days)  # the later one holds

    cancelled = api.post(company_url(company, f"promises/{first_made['id']}/cancel"), {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    assert state(on_first) == ("active", None)
    assert state(on_second) == state(on_balance) == ("paused", "promise")  # the second promise is open

    promises_settle(now=deadline(sooner, company.promise_grace_days))  # broken
    assert state(on_second) == state(on_balance) == ("active", None)


def test_a_promise_revised_to_an_earlier_date_moves_the_balances_pause_back(api, company, account):
    _, first, second, on_first, _, on_balance = account
    promise(api, company, first, days=20)
    _, other = promise(api, company, second, days=5)
    _, revised = promise(api, company, first, days=10)  # replaces the 20-day promise on the same invoice
    grace = company.promise_grace_days
    on_first.refresh_from_db(), on_balance.refresh_from_db()
    assert on_first.paused_until == deadline(revised, grace)
    # The latest open promise now ends at 10 days (the 5-day one is earlier): not the cancelled 20.
    assert on_balance.paused_until == deadline(revised, grace) > deadline(other, grace)
    assert state(on_balance) == ("paused", "promise")


def test_a_dispute_takes_over_a_promises_pause_so_a_broken_promise_does_not_resume(api, company, account):
    _, first, _, on_first, _, _ = account
    _, promised = promise(api, company, first)
    dispute(api, company, first)
    assert state(on_first) == ("paused", "dispute")
    promises_settle(now=deadline(promised, company.promise_grace_days) + datetime.timedelta(days=1))
    assert state(on_first) == ("paused", "dispute")


def test_enrolling_never_chases_a_disputed_invoice(api, company):
    customer = CustomerFactory(company=company)
    disputed = InvoiceFactory(customer=customer, issue_date="2030-01-01", due_date="2030-02-01")
    later = InvoiceFactory(customer=customer, issue_date="2030-01-01", due_date="2030-03-01")
    dispute(api, company, disputed)
    sequence = active_sequence_with_steps(company=company, anchor="invoice_due")
    body = {"sequence_id": str(sequence.id), "customer_id": str(customer.id)}

    refused = api.post(
        company_url(company, "sequence-enrollments"), {**body, "invoice_id": str(disputed.id)}, format="json"
    )
    assert refused.status_code == 400 and "invoice_id" in refused.json()
    created = api.post(company_url(company, "sequence-enrollments"), body, format="json")
    assert created.status_code == 201 and created.json()["enrollment"]["invoice_id"] == str(later.id)


def test_a_dispute_takes_over_a_persons_pause_so_its_end_does_not_restart_the_chase(api, company, account):
    _, first, _, on_first, _, _ = account
    until = (timezone.now() + datetime.timedelta(days=3)).date()
    paused = api.post(
        company_url(company, f"sequence-enrollments/{on_first.id}/pause"),
        {"until": str(until)},
        format="json",
    )
    assert paused.status_code == 200, paused.json()
    dispute(api, company, first)
    assert state(on_first) == ("paused", "dispute") and on_first.paused_until is None

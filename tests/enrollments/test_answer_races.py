"""Two answers of one customer at once, on real connections: the enrollment that chases the whole balance
is shared by every promise and dispute of the customer, and each answer asks whether another is still
open. The first answer is held open in its transaction while the second runs; the second must wait for
it (the customer's row lock, enrollments.answers) and then see it, or the shared enrollment is left in the
wrong state for good."""

import datetime
import threading
import time

import pytest
from django.db import connections, transaction
from django.utils import timezone

from daylit import disputes, promises
from daylit.models import Dispute, Invoice
from tests.enrollments.test_answers import account  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# Time for the second answer to reach the lock (or, without it, to finish) while the first is held.
SECOND_ANSWER_HEAD_START = 0.5


def while_held(first_answer, second_answer) -> None:
    """Run `first_answer` in a transaction held open until `second_answer` (in its own thread) has had
    its head start; then let the first commit and wait for both. Errors in either are raised here."""
    held, release, errors = threading.Event(), threading.Event(), []

    def run(answer, *, hold: bool):
        try:
            with transaction.atomic():
                answer()
                if hold:
                    held.set()
                    assert release.wait(10), "never released"
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread)
            errors.append(exc)
            held.set()
        finally:
            connections.close_all()

    first = threading.Thread(target=run, args=(first_answer,), kwargs={"hold": True})
    first.start()
    assert held.wait(10)
    second = threading.Thread(target=run, args=(second_answer,), kwargs={"hold": False})
    second.start()
    time.sleep(SECOND_ANSWER_HEAD_START)
    release.set()
    first.join(15)
    second.join(15)
    assert not first.is_alive() and not second.is_alive()
    if errors:
        raise errors[0]


def test_two_disputes_upheld_at_once_complete_the_balance(company, account):  # noqa: F811
    _, first, second, _, _, on_balance = account
    opened = [disputes.dispute_open(invoice=invoice, reason="pricing") for invoice in (first, second)]
    on_balance.refresh_from_db()
    assert (on_balance.status, on_balance.pause_reason) == ("paused", "dispute")

    while_held(
        lambda: disputes.dispute_resolve(dispute=opened[0], resolution="upheld"),
        lambda: disputes.dispute_resolve(dispute=opened[1], resolution="upheld"),
    )
    assert set(Dispute.objects.values_list("status", flat=True)) == {"resolved"}
    on_balance.refresh_from_db()
    # Each saw the other still open without the lock, and the balance stayed paused with no end.
    assert (on_balance.status, on_balance.stop_reason) == ("completed", "dispute_upheld")


def test_a_promise_made_while_beat_breaks_another_keeps_the_balance_paused(company, account):  # noqa: F811
    _, first, second, _, _, on_balance = account
    today = timezone.now().date()
    broken = promises.promise_create(invoice=first, promised_date=today + datetime.timedelta(days=2))
    breaks_at = timezone.now() + datetime.timedelta(days=3 + company.promise_grace_days)
    later = today + datetime.timedelta(days=30)

    while_held(
        lambda: promises.promises_settle(now=breaks_at),
        lambda: promises.promise_create(invoice=Invoice.objects.get(pk=second.pk), promised_date=later),
    )
    broken.refresh_from_db()
    assert broken.status == "broken"
    on_balance.refresh_from_db()
    # Without the lock, beat's "any promise still open?" missed the new one and resumed the balance.
    assert (on_balance.status, on_balance.pause_reason) == ("paused", "promise")

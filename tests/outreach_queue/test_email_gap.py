"""The company's `min_hours_between_emails` (SPEC "Collections calendar"): auto-send waits N hours after
the last email to the customer from any sequence, a person may still send, and the row's `warnings`
say so. Against the fake Nylas (tests/fakes/nylas.py); concurrency with real threads and transactions."""

import datetime
import threading
import time

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from daylit.models import Company
from enrollments.models import ScheduledStep
from outreach_queue.services import queue_row_auto_send, queue_row_send, queue_rows_auto_send_plan
from tests.conftest import company_url
from tests.factories.core import CompanyFactory, CustomerFactory, InvoiceFactory
from tests.outreach_queue.helpers import Status, due_row, past, ready_row, sequence_with_sender

pytestmark = pytest.mark.django_db

WARNING_24 = (
    "An email went to this customer {ago}; auto-send waits 24 hours between emails (company setting), "
    "a person may still send."
)


def with_gap(company, hours: int):
    Company.objects.filter(pk=company.pk).update(min_hours_between_emails=hours)
    company.refresh_from_db()
    return company


def a_customer(company):
    customer = CustomerFactory(company=company)
    InvoiceFactory(customer=customer)
    return customer


def emailed(company, customer, *, hours_ago: float, status=Status.SENT):
    """A reminder of another sequence that went to `customer` `hours_ago` hours ago."""
    at = timezone.now() - datetime.timedelta(hours=hours_ago)
    return due_row(company, customer=customer, status=status, scheduled_for=at, processed_at=at)


def auto_row(company, customer, **fields):
    return ready_row(
        company, customer=customer, sequence=sequence_with_sender(company, auto_send=True), **fields
    )


def planned(now=None) -> set:
    return {plan.row_id for plan in queue_rows_auto_send_plan(now=now)}


def queue_url(company, path=""):
    return company_url(company, f"sequences/queue{path}")


# --- auto-send waits ------------------------------------------------------------------------------


def test_auto_send_holds_back_a_row_within_the_gap_after_an_email_from_another_sequence(company, fake_nylas):
    with_gap(company, 24)
    customer = a_customer(company)
    emailed(company, customer, hours_ago=3)
    row = auto_row(company, customer)
    other_customer = auto_row(company, a_customer(company))
    assert planned() == {other_customer.pk}
    assert queue_row_auto_send(row_id=row.pk) is None
    assert fake_nylas.requests == []
    row.refresh_from_db()
    assert row.status == Status.READY and row.attempts == 0


def test_auto_send_sends_once_the_gap_has_passed(company, fake_nylas):
    with_gap(company, 24)
    customer = a_customer(company)
    emailed(company, customer, hours_ago=25)
    row = auto_row(company, customer)
    assert planned() == {row.pk}
    assert queue_row_auto_send(row_id=row.pk).status == Status.SENT
    assert len(fake_nylas.deliveries) == 1


def test_a_held_back_row_is_picked_by_a_later_pass(company, fake_nylas):
    with_gap(company, 2)
    customer = a_customer(company)
    emailed(company, customer, hours_ago=1)
    row = auto_row(company, customer)
    assert row.pk not in planned()
    assert row.pk in planned(now=timezone.now() + datetime.timedelta(hours=1, minutes=1))


def test_an_email_being_sent_counts_whatever_its_times(company, fake_nylas):
    with_gap(company, 24)
    customer = a_customer(company)
    emailed(company, customer, hours_ago=48, status=Status.SENDING)
    row = auto_row(company, customer)
    assert row.pk not in planned()
    assert queue_row_auto_send(row_id=row.pk) is None


def test_calls_failed_and_cancelled_rows_are_not_emails(company, fake_nylas):
    with_gap(company, 24)
    customer = a_customer(company)
    for status in (Status.FAILED, Status.CANCELLED, Status.READY):
        emailed(company, customer, hours_ago=1, status=status)
    at = timezone.now() - datetime.timedelta(hours=1)
    due_row(company, customer=customer, step_type="call", status=Status.COMPLETED, processed_at=at)
    row = auto_row(company, customer)
    assert row.pk in planned()


def test_zero_is_off(company, fake_nylas):
    assert company.min_hours_between_emails == 0
    customer = a_customer(company)
    emailed(company, customer, hours_ago=0.01)
    first, second = auto_row(company, customer), auto_row(company, customer)
    assert planned() == {first.pk, second.pk}
    assert queue_row_auto_send(row_id=first.pk).status == Status.SENT
    assert queue_row_auto_send(row_id=second.pk).status == Status.SENT


def test_each_company_reads_its_own_setting(company, fake_nylas):
    other = CompanyFactory()
    with_gap(company, 24)
    mine, theirs = a_customer(company), a_customer(other)
    emailed(company, mine, hours_ago=1)
    emailed(other, theirs, hours_ago=1)
    held, sent = auto_row(company, mine), auto_row(other, theirs)
    assert planned() == {sent.pk}
    assert held.pk not in planned()


def test_a_pass_takes_one_row_per_customer(company, fake_nylas):
    """Two rows of one customer from two sequences ready at once: only the earlier is handed out."""
    with_gap(company, 24)
    customer = a_customer(company)
    earlier = auto_row(company, customer, scheduled_for=past(30))
    later = auto_row(company, customer, scheduled_for=past(10))
    assert planned() == {earlier.pk}
    assert queue_row_auto_send(row_id=earlier.pk).status == Status.SENT
    assert planned() == set()
    # Even a task that slipped through (an older plan) is refused by the claim.
    assert queue_row_auto_send(row_id=later.pk) is None
    later.refresh_from_db()
    assert later.status == Status.READY and len(fake_nylas.deliveries) == 1


def test_the_claim_checks_again_after_auto_sends_read(company, fake_nylas):
    """An email that goes to the customer between auto-send's read and its claim stops the claim."""
    with_gap(company, 24)
    customer = a_customer(company)
    row = auto_row(company, customer)
    other = emailed(company, customer, hours_ago=48)
    done = []

    def sent_just_before_the_claim(execute, sql, params, many, context):
        if not done and sql.startswith('UPDATE "enrollments_scheduledstep"') and "sending" in (params or ()):
            done.append(True)
            ScheduledStep.objects.filter(pk=other.pk).update(processed_at=timezone.now())
        return execute(sql, params, many, context)

    with db_connection.execute_wrapper(sent_just_before_the_claim):
        result = queue_row_auto_send(row_id=row.pk)
    assert done and result.status == Status.READY
    assert fake_nylas.requests == []


# --- concurrency ----------------------------------------------------------------------------------


def _in_threads(*calls):
    errors = []

    def run(call):
        try:
            call()
        except Exception as exc:  # noqa: BLE001 (collected and asserted below)
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_auto_sends_of_one_customers_rows_send_one(fake_nylas):
    company = with_gap(CompanyFactory(), 24)
    customer = a_customer(company)
    rows = [auto_row(company, customer) for _ in range(6)]
    barrier = threading.Barrier(len(rows))

    def send(row):
        barrier.wait()
        queue_row_auto_send(row_id=row.pk)

    _in_threads(*(lambda row=row: send(row) for row in rows))
    assert len(fake_nylas.requests) == 1 and len(fake_nylas.deliveries) == 1
    statuses = sorted(
        ScheduledStep.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)
    )
    assert statuses == [Status.READY] * 5 + [Status.SENT]


def _claim_held_open(first_claimed: threading.Event):
    """An execute wrapper that, right after a claim's UPDATE, keeps its transaction open a while
    (signalling `first_claimed`): another claim meanwhile must not miss the row being sent."""

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith('UPDATE "enrollments_scheduledstep"') and "sending" in (params or ()):
            first_claimed.set()
            time.sleep(0.5)
        return result

    return wrapper


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["auto_send", "person"])
def test_a_claim_in_flight_holds_back_another_auto_send_of_the_customer(fake_nylas, first):
    company = with_gap(CompanyFactory(), 24)
    customer = a_customer(company)
    row_a, row_b = auto_row(company, customer), auto_row(company, customer)
    first_claimed = threading.Event()

    def first_sender():
        with db_connection.execute_wrapper(_claim_held_open(first_claimed)):
            if first == "person":
                queue_row_send(row=row_a, member=None)
            else:
                queue_row_auto_send(row_id=row_a.pk)

    def auto_send_meanwhile():
        assert first_claimed.wait(5)
        queue_row_auto_send(row_id=row_b.pk)

    _in_threads(first_sender, auto_send_meanwhile)
    row_a.refresh_from_db()
    row_b.refresh_from_db()
    assert (row_a.status, row_b.status) == (Status.SENT, Status.READY)
    assert len(fake_nylas.deliveries) == 1


# --- a person may still send ----------------------------------------------------------------------


def test_a_person_sends_within_the_gap(api, company, fake_nylas):
    with_gap(company, 24)
    customer = a_customer(company)
    emailed(company, customer, hours_ago=1)
    row = auto_row(company, customer)
    response = api.post(queue_url(company, f"/{row.pk}/send"), {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "sent" and response.json()["warnings"] == []
    assert len(fake_nylas.deliveries) == 1


# --- warnings -------------------------------------------------------------------------------------


def test_warnings_on_the_list_and_the_row(api, company, fake_nylas):
    with_gap(company, 24)
    customer = a_customer(company)
    emailed(company, customer, hours_ago=3.5)
    warned = ready_row(company, customer=customer)
    call = ready_row(company, customer=customer, step_type="call")
    quiet = ready_row(company, customer=a_customer(company))
    expected = [WARNING_24.format(ago="3 hours ago")]

    listed = {row["id"]: row["warnings"] for row in api.get(queue_url(company)).json()["data"]}
    assert listed == {str(warned.pk): expected, str(call.pk): [], str(quiet.pk): []}
    assert api.get(queue_url(company, f"/{warned.pk}")).json()["warnings"] == expected
    history = api.get(queue_url(company), {"category": "history"}).json()["data"]
    assert history and all(row["warnings"] == [] for row in history)


def test_warning_wording_for_recent_and_in_flight_emails(api, company, fake_nylas):
    with_gap(company, 1)
    customer = a_customer(company)
    row = ready_row(company, customer=customer)
    other = emailed(company, customer, hours_ago=0.2)

    def warnings():
        return api.get(queue_url(company, f"/{row.pk}")).json()["warnings"]

    tail = "; auto-send waits 1 hour between emails (company setting), a person may still send."
    assert warnings() == ["An email went to this customer less than an hour ago" + tail]
    ScheduledStep.objects.filter(pk=other.pk).update(status=Status.SENDING)
    assert warnings() == ["An email is being sent to this customer" + tail]
    with_gap(company, 48)
    ScheduledStep.objects.filter(pk=other.pk).update(
        status=Status.SENT, processed_at=timezone.now() - datetime.timedelta(hours=1, minutes=5)
    )
    assert warnings() == [
        "An email went to this customer 1 hour ago; auto-send waits 48 hours between emails (company "
        "setting), a person may still send."
    ]
    with_gap(company, 0)
    assert warnings() == []


def test_no_warning_once_the_gap_has_passed(api, company, fake_nylas):
    with_gap(company, 24)
    customer = a_customer(company)
    emailed(company, customer, hours_ago=24.1)
    row = ready_row(company, customer=customer)
    assert api.get(queue_url(company, f"/{row.pk}")).json()["warnings"] == []


def test_warnings_cost_one_query_per_page_whatever_its_size(api, company, fake_nylas):
    with_gap(company, 24)
    customers = [a_customer(company) for _ in range(10)]
    for customer in customers:
        emailed(company, customer, hours_ago=2)
    api.get(queue_url(company))

    def list_queries():
        with CaptureQueriesContext(db_connection) as queries:
            body = api.get(queue_url(company)).json()
        return len(queries), body

    ready_row(company, customer=customers[0])
    few, body = list_queries()
    for customer in customers[1:]:
        ready_row(company, customer=customer)
    many, body = list_queries()
    assert body["count"] == 10 and all(len(row["warnings"]) == 1 for row in body["data"])
    assert many == few


# --- schedule_note --------------------------------------------------------------------------------


def test_schedule_note_on_the_list_and_the_row(api, company, fake_nylas):
    moved = ready_row(company)
    ScheduledStep.objects.filter(pk=moved.pk).update(schedule_note="Sat 2026-12-26 is not a send day")
    plain = ready_row(company)
    listed = {row["id"]: row["schedule_note"] for row in api.get(queue_url(company)).json()["data"]}
    assert listed == {str(moved.pk): "Sat 2026-12-26 is not a send day", str(plain.pk): None}
    assert api.get(queue_url(company, f"/{moved.pk}")).json()["schedule_note"] == (
        "Sat 2026-12-26 is not a send day"
    )


def test_openapi_documents_schedule_note_and_warnings(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    row = response.json()["components"]["schemas"]["QueueRow"]
    note, warnings = row["properties"]["schedule_note"], row["properties"]["warnings"]
    assert note["type"] == "string" and note["nullable"] is True and note["readOnly"] is True
    assert "send day" in note["description"]
    assert warnings["type"] == "array" and warnings["items"]["type"] == "string"
    assert "min_hours_between_emails" in warnings["description"]
    assert {"schedule_note", "warnings"} <= set(row["required"])

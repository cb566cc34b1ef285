"""Promises to pay through the API and the services: create (and replace), cancel, kept and broken on a
fake clock, each with its event and its signal; validation 400s and state 409s."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from daylit import promises
from daylit.api.promise_serializers import PromiseSerializer
from daylit.models import Invoice, Promise
from daylit.services import invoice_update
from daylit.signals import promise_created, promises_ended
from daylit.tasks import settle_promises
from events.payloads import PROMISE
from events.types import PROMISE_BROKEN, PROMISE_CANCELLED, PROMISE_CREATED, PROMISE_KEPT
from tests.conftest import company_url
from tests.daylit.collections_helpers import caught
from tests.events.emission import event_data, payload, recorded
from tests.events.helpers import as_api_json
from tests.factories.core import CustomerFactory, InvoiceFactory, PromiseFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
PROMISE_FIELDS = {
    "id",
    "invoice_id",
    "customer_id",
    "amount",
    "currency",
    "promised_date",
    "status",
    "source",
    "note",
    "created_at",
    "settled_at",
}


def today() -> datetime.date:
    return timezone.now().astimezone(UTC).date()


@pytest.fixture
def invoice(company):
    return InvoiceFactory(customer=CustomerFactory(company=company), amount_due=Decimal("1250.00"))


def promise_url(company, invoice) -> str:
    return company_url(company, f"invoices/{invoice.pk}/promises")


def promise_on(invoice, *, days: int = 7, now=None, **fields) -> Promise:
    now = now or timezone.now()
    date = now.astimezone(UTC).date() + datetime.timedelta(days=days)
    return promises.promise_create(invoice=invoice, promised_date=date, now=now, **fields)


# --- Create -----------------------------------------------------------------------------------------


def test_a_promise_is_201_with_the_spec_body_its_event_and_its_signal(api, company, invoice):
    date = today() + datetime.timedelta(days=10)
    with caught(promise_created) as sent:
        response = api.post(
            promise_url(company, invoice), {"promised_date": str(date), "note": "on the phone"}, format="json"
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == PROMISE_FIELDS
    assert body["amount"] == "1250.00" and body["currency"] == "USD"  # amount defaults to amount_due
    assert (body["status"], body["source"], body["settled_at"]) == ("open", "api", None)
    assert (body["invoice_id"], body["customer_id"]) == (str(invoice.pk), str(invoice.customer_id))
    assert body["promised_date"] == str(date) and body["note"] == "on the phone"

    promise = Promise.objects.get(pk=body["id"])
    assert recorded() == [(PROMISE_CREATED, promise.pk)]
    assert event_data(PROMISE_CREATED, promise.pk) == body
    # 00:00 UTC of promised_date + promise_grace_days (2 by default) + 1 day.
    deadline = datetime.datetime.combine(date + datetime.timedelta(days=3), datetime.time(0), tzinfo=UTC)
    assert len(sent) == 1
    assert sent[0]["promise"] == promise and sent[0]["pause_until"] == deadline
    assert sent[0]["replaced"] is None and sent[0]["pause_until"].utcoffset() == datetime.timedelta(0)


def test_the_deadline_follows_the_company_grace_days(company, invoice):
    company.promise_grace_days = 0
    company.save()
    now = datetime.datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    with caught(promise_created) as sent:
        promise_on(invoice, days=0, now=now)
    assert sent[0]["pause_until"] == datetime.datetime(2026, 12, 4, tzinfo=UTC)


def test_a_partial_amount_and_the_bounds_of_the_date(api, company, invoice):
    first, last = today(), today() + datetime.timedelta(days=365)
    response = api.post(
        promise_url(company, invoice), {"promised_date": str(first), "amount": "0.01"}, format="json"
    )
    assert response.status_code == 201 and response.json()["amount"] == "0.01"
    response = api.post(
        promise_url(company, invoice), {"promised_date": str(last), "amount": "1250.00"}, format="json"
    )
    assert response.status_code == 201, response.json()


def test_a_new_promise_cancels_the_open_one_without_ending_the_pause(api, company, invoice):
    old = promise_on(invoice, days=3)
    with caught(promise_created) as created, caught(promises_ended) as ended:
        response = api.post(
            promise_url(company, invoice), {"promised_date": str(today()), "amount": "100.00"}, format="json"
        )
    assert response.status_code == 201
    new = Promise.objects.get(pk=response.json()["id"])
    old.refresh_from_db()
    assert old.status == "cancelled" and old.settled_at is not None
    assert Promise.objects.filter(invoice=invoice, status="open").get() == new
    assert recorded() == [(PROMISE_CREATED, old.pk), (PROMISE_CANCELLED, old.pk), (PROMISE_CREATED, new.pk)]
    assert event_data(PROMISE_CANCELLED, old.pk)["status"] == "cancelled"
    assert ended == []  # the replaced promise does not end the pause: the new one goes on with it
    assert [(c["promise"], c["replaced"]) for c in created] == [(new, old)]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "promised_date"),
        ({"promised_date": "yesterday"}, "promised_date"),
        ({"promised_date": "PAST"}, "promised_date"),
        ({"promised_date": "TOO_FAR"}, "promised_date"),
        ({"promised_date": "TODAY", "amount": "0.00"}, "amount"),
        ({"promised_date": "TODAY", "amount": "-5.00"}, "amount"),
        ({"promised_date": "TODAY", "amount": "1250.01"}, "amount"),
        ({"promised_date": "TODAY", "amount": 100}, "amount"),  # a JSON number is not a decimal string
        ({"promised_date": "TODAY", "amount": "1.005"}, "amount"),
        ({"promised_date": "TODAY", "note": "x" * 2001}, "note"),
        ({"promised_date": "TODAY", "note": 5}, "note"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(api, company, invoice, body, field):
    dates = {
        "TODAY": str(today()),
        "PAST": str(today() - datetime.timedelta(days=1)),
        "TOO_FAR": str(today() + datetime.timedelta(days=366)),
    }
    body = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = api.post(promise_url(company, invoice), body, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()) == [field]
    assert not Promise.objects.exists() and recorded() == []


@pytest.mark.parametrize("status", [Invoice.Status.PAID, Invoice.Status.VOID])
def test_only_an_open_invoice_takes_a_promise(api, company, invoice, status):
    invoice_update(invoice=invoice, data={"status": status})
    response = api.post(promise_url(company, invoice), {"promised_date": str(today())}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invoice_not_open"
    assert not Promise.objects.exists()


def test_another_companys_invoice_is_404_and_no_token_401(api, anon, company, other_company):
    foreign = InvoiceFactory(customer=CustomerFactory(company=other_company))
    response = api.post(promise_url(company, foreign), {"promised_date": str(today())}, format="json")
    assert response.status_code == 404
    invoice = InvoiceFactory(customer=CustomerFactory(company=company))
    assert anon.post(promise_url(company, invoice), {"promised_date": str(today())}).status_code == 401
    assert not Promise.objects.exists()


# --- Cancel -----------------------------------------------------------------------------------------


def test_cancel_ends_the_promise_once(api, company, invoice):
    promise = promise_on(invoice)
    url = company_url(company, f"promises/{promise.pk}/cancel")
    with caught(promises_ended) as ended:
        response = api.post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["settled_at"]
    assert recorded(PROMISE_CANCELLED) == [(PROMISE_CANCELLED, promise.pk)]
    assert len(ended) == 1 and ended[0]["outcome"] == "cancelled"
    assert [p.pk for p in ended[0]["promises"]] == [promise.pk]
    assert ended[0]["promises"][0].status == "cancelled"

    again = api.post(url)
    assert again.status_code == 409 and again.json()["code"] == "promise_not_open"
    assert recorded(PROMISE_CANCELLED) == [(PROMISE_CANCELLED, promise.pk)]


def test_another_companys_promise_is_404(api, company, other_company):
    foreign = PromiseFactory(invoice__customer=CustomerFactory(company=other_company))
    assert api.post(company_url(company, f"promises/{foreign.pk}/cancel")).status_code == 404
    assert api.get(company_url(company, f"promises/{foreign.pk}")).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "open"


# --- Kept and broken, on a fake clock -----------------------------------------------------------------

NOW = datetime.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
# Promised for 2026-12-10 with the default 2 grace days: broken from 2026-12-13 00:00 UTC.
DEADLINE = datetime.datetime(2026, 12, 13, tzinfo=UTC)


def test_unpaid_at_the_deadline_is_broken_and_not_a_microsecond_before(invoice):
    promise = promise_on(invoice, now=NOW)
    with caught(promises_ended) as ended:
        assert promises.promises_settle(now=DEADLINE - datetime.timedelta(microseconds=1)) == {}
        assert ended == []
        assert promises.promises_settle(now=DEADLINE) == {"broken": 1}
    promise.refresh_from_db()
    assert promise.status == "broken" and promise.settled_at == DEADLINE
    assert recorded(PROMISE_BROKEN) == [(PROMISE_BROKEN, promise.pk)]
    assert [(e["outcome"], [p.pk for p in e["promises"]]) for e in ended] == [("broken", [promise.pk])]
    assert promises.promises_settle(now=DEADLINE + datetime.timedelta(days=1)) == {}  # idempotent


def test_paying_before_the_deadline_keeps_the_promise_at_once(invoice):
    promise = promise_on(invoice, now=NOW)
    with caught(promises_ended) as ended:
        invoice_update(invoice=invoice, data={"status": Invoice.Status.PAID})
    promise.refresh_from_db()
    assert promise.status == "kept" and promise.settled_at is not None
    assert recorded(PROMISE_KEPT) == [(PROMISE_KEPT, promise.pk)]
    assert [(e["outcome"], [p.pk for p in e["promises"]]) for e in ended] == [("kept", [promise.pk])]
    assert promises.promises_settle(now=DEADLINE) == {}  # nothing left open to break


def test_paid_after_the_deadline_is_broken_even_before_the_beat_ran(invoice):
    promise = promise_on(invoice, now=NOW)
    Invoice.objects.filter(pk=invoice.pk).update(status="paid", paid_at=DEADLINE)  # not seen by the hook
    assert promises.promises_settle(now=DEADLINE + datetime.timedelta(minutes=1)) == {"broken": 1}
    promise.refresh_from_db()
    assert promise.status == "broken"


def test_the_beat_keeps_a_promise_whose_invoice_was_paid_in_time_and_cancels_a_voided_ones(company):
    paid, void = (InvoiceFactory(customer=CustomerFactory(company=company)) for _ in range(2))
    kept, cancelled = promise_on(paid, now=NOW), promise_on(void, now=NOW)
    Invoice.objects.filter(pk=paid.pk).update(status="paid", paid_at=NOW)
    Invoice.objects.filter(pk=void.pk).update(status="void")
    assert promises.promises_settle(now=NOW) == {"kept": 1, "cancelled": 1}
    assert {p.pk: p.status for p in Promise.objects.all()} == {kept.pk: "kept", cancelled.pk: "cancelled"}


def test_voiding_the_invoice_cancels_its_promise(invoice):
    promise = promise_on(invoice, now=NOW)
    with caught(promises_ended) as ended:
        invoice_update(invoice=invoice, data={"status": Invoice.Status.VOID})
    promise.refresh_from_db()
    assert promise.status == "cancelled" and ended[0]["outcome"] == "cancelled"


def test_the_settle_pass_is_set_based_one_signal_per_outcome(company, django_assert_max_num_queries):
    invoices = [InvoiceFactory(customer=CustomerFactory(company=company)) for _ in range(6)]
    made = [promise_on(invoice, now=NOW) for invoice in invoices]
    # A few statements per batch of 4, whatever its size (one locks the batch's customers and one reads
    # which of them still have an open promise, for the enrollments that chase a whole balance).
    with caught(promises_ended) as ended, django_assert_max_num_queries(16):
        assert promises.promises_settle(now=DEADLINE, batch_size=4) == {"broken": 6}
    assert [len(e["promises"]) for e in ended] == [4, 2]
    assert {p.pk for e in ended for p in e["promises"]} == {p.pk for p in made}
    assert len(recorded(PROMISE_BROKEN)) == 6


def test_the_grace_is_each_companys_own(company, other_company):
    other_company.promise_grace_days = 0
    other_company.save()
    mine = promise_on(InvoiceFactory(customer=CustomerFactory(company=company)), now=NOW)
    theirs = promise_on(InvoiceFactory(customer=CustomerFactory(company=other_company)), now=NOW)
    assert promises.promises_settle(now=datetime.datetime(2026, 12, 11, tzinfo=UTC)) == {"broken": 1}
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("open", "broken")


def test_the_beat_task_settles_what_is_due(company):
    long_ago = PromiseFactory(
        invoice__customer=CustomerFactory(company=company), promised_date=datetime.date(2020, 1, 1)
    )
    future = PromiseFactory(
        invoice__customer=CustomerFactory(company=company), promised_date=today() + datetime.timedelta(days=5)
    )
    assert settle_promises() == {"broken": 1}
    assert settle_promises() == {}
    long_ago.refresh_from_db(), future.refresh_from_db()
    assert (long_ago.status, future.status) == ("broken", "open")


def test_the_database_allows_one_open_promise_per_invoice(invoice):
    from django.db import IntegrityError, transaction

    PromiseFactory(invoice=invoice)
    with pytest.raises(IntegrityError), transaction.atomic():
        PromiseFactory(invoice=invoice)
    PromiseFactory(invoice=invoice, status="kept", settled_at=timezone.now())  # settled ones are history


# --- Reads --------------------------------------------------------------------------------------------


def test_list_filters_detail_and_pages(api, company, other_company):
    a, b = (CustomerFactory(company=company) for _ in range(2))
    first = promise_on(InvoiceFactory(customer=a), days=1)
    second = promise_on(InvoiceFactory(customer=b), days=2)
    promises.promise_cancel(promise=second)
    PromiseFactory(invoice__customer=CustomerFactory(company=other_company))

    def ids(**query):
        response = api.get(company_url(company, "promises"), query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["data"]]

    assert ids() == [str(second.pk), str(first.pk)]  # newest first, the company's only
    assert ids(status="open") == [str(first.pk)]
    assert ids(status="open,cancelled") == [str(second.pk), str(first.pk)]
    assert ids(customer_id=str(b.pk)) == [str(second.pk)]
    assert ids(invoice_id=str(first.invoice_id)) == [str(first.pk)]
    page = api.get(company_url(company, "promises"), {"page_size": 1, "page": 2}).json()
    assert (page["count"], page["page"], page["page_size"], len(page["data"])) == (2, 2, 1, 1)

    detail = api.get(company_url(company, f"promises/{first.pk}"))
    assert detail.status_code == 200 and detail.json() == as_api_json(PromiseSerializer(first).data)


def test_the_list_has_a_fixed_number_of_queries(api, company, django_assert_num_queries):
    for _ in range(3):
        PromiseFactory(invoice__customer=CustomerFactory(company=company))
    # auth token, its last_used_at, membership, count, page
    with django_assert_num_queries(5):
        assert api.get(company_url(company, "promises")).json()["count"] == 3


@pytest.mark.parametrize("status", ["open", "kept", "broken", "cancelled"])
def test_the_event_payload_is_the_api_shape(company, status):
    settled = None if status == "open" else timezone.now()
    promise = PromiseFactory(
        invoice__customer=CustomerFactory(company=company),
        status=status,
        settled_at=settled,
        note="ok \u201c",
    )
    event = payload(type=PROMISE_CREATED, subject_type=PROMISE, obj_id=promise.pk)
    assert event.data == as_api_json(PromiseSerializer(promise).data)
    assert event.customer_id == promise.customer_id

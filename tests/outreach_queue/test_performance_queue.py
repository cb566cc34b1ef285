"""The queue list's performance machinery keeps its answers exact.

- `ar_owner_id` on the row (copied by PostgreSQL triggers, enrollments.0004) follows the customer's
  owner whatever changes it: the API, a queryset update, a member's deletion (SET NULL);
- the broad search plan (subqueries, index-only scan of the tab) finds what the narrow plan finds,
  including more name matches than are ever inlined as ids;
- the list stays a fixed number of queries with filters and search, and reads the planner's
  statistics once per interval.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from daylit.models import Customer
from enrollments.models import ScheduledStep
from outreach_queue import search
from tests.factories.core import CustomerFactory, InvoiceFactory, MemberFactory
from tests.factories.sequences import SequenceFactory
from tests.outreach_queue.helpers import due_row
from tests.outreach_queue.test_api import queue_url


def _ids(api, company, **params):
    body = api.get(queue_url(company), params).json()
    assert body["count"] == len(body["data"]), body  # every test here fits on one page
    return {row["id"] for row in body["data"]}


def test_a_new_row_copies_its_customers_owner(company, member):
    owned = due_row(company, customer=CustomerFactory(company=company, ar_owner=member))
    unowned = due_row(company)
    owned.refresh_from_db()
    unowned.refresh_from_db()
    assert owned.ar_owner_id == member.pk
    assert unowned.ar_owner_id is None


def test_changing_the_owner_through_the_api_moves_the_rows(api, company, member):
    customer = CustomerFactory(company=company)
    InvoiceFactory(customer=customer)
    rows = [due_row(company, customer=customer) for _ in range(2)]
    api.get(queue_url(company))  # promote
    assert _ids(api, company, ar_owner=str(member.pk)) == set()

    response = api.patch(
        company_customer_url(company, customer), {"ar_owner_id": str(member.pk)}, format="json"
    )
    assert response.status_code == 200, response.json()

    assert _ids(api, company, ar_owner=str(member.pk)) == {str(r.pk) for r in rows}
    assert _ids(api, company, ar_owner="__unassigned__") == set()


def test_a_set_based_owner_change_and_a_members_deletion_reach_every_row(api, company, member):
    other = MemberFactory(company=company)
    customers = [CustomerFactory(company=company, ar_owner=other) for _ in range(3)]
    rows = [due_row(company, customer=c) for c in customers]
    for c in customers:
        InvoiceFactory(customer=c)
    Customer.objects.filter(pk__in=[c.pk for c in customers[:2]]).update(ar_owner=member)

    assert _ids(api, company, ar_owner=str(member.pk)) == {str(rows[0].pk), str(rows[1].pk)}
    assert _ids(api, company, ar_owner=str(other.pk)) == {str(rows[2].pk)}

    other.delete()  # Customer.ar_owner is SET_NULL
    assert ScheduledStep.objects.get(pk=rows[2].pk).ar_owner_id is None
    assert _ids(api, company, ar_owner="__unassigned__") == {str(rows[2].pk)}


def test_saving_a_stale_row_keeps_the_current_owner(company, member):
    customer = CustomerFactory(company=company)
    row = due_row(company, customer=customer)
    stale = ScheduledStep.objects.get(pk=row.pk)
    Customer.objects.filter(pk=customer.pk).update(ar_owner=member)
    stale.notes = "edited"
    stale.save()  # writes the old ar_owner_id, but also customer_id: the trigger copies it again
    assert ScheduledStep.objects.get(pk=row.pk).ar_owner_id == member.pk


@pytest.fixture
def search_rows(company):
    sequence = SequenceFactory(company=company, status="active", name="Zebra chase")
    rows = {
        "sequence": due_row(company, sequence=sequence),
        "customer": due_row(company, customer=CustomerFactory(company=company, name="Quokka Ltd")),
        "label": due_row(company),
        "subject": due_row(company),
        "other": due_row(company),
    }
    InvoiceFactory(customer=rows["customer"].customer)
    rows["label"].step.label = "Walrus call"
    rows["label"].step.save()
    rows["subject"].step.subject_template = "About your Narwhal account"
    rows["subject"].step.save()
    return rows


@pytest.mark.parametrize("narrow_rows", [10_000, 0], ids=["narrow-plan", "broad-plan"])
def test_both_search_plans_find_the_same_rows(api, company, settings, search_rows, narrow_rows):
    settings.QUEUE_NARROW_SEARCH_ROWS = narrow_rows
    for term, key in (
        ("zEBRA", "sequence"),
        ("quokka", "customer"),
        ("WALRUS", "label"),
        ("narwhal", "subject"),
    ):
        assert _ids(api, company, search=term) == {str(search_rows[key].pk)}, term
    assert _ids(api, company, search="nothing-like-this") == set()
    # the subject subquery is limited to the tab asked for
    assert _ids(api, company, search="narwhal", category="upcoming") == set()


@pytest.mark.parametrize("narrow_rows", [10_000, 0], ids=["narrow-plan", "broad-plan"])
def test_search_folds_case_beyond_ascii_and_takes_like_signs_literally(api, company, settings, narrow_rows):
    settings.QUEUE_NARROW_SEARCH_ROWS = narrow_rows
    accented = due_row(company, customer=CustomerFactory(company=company, name="Société Générale"))
    InvoiceFactory(customer=accented.customer)
    percent = due_row(company)
    percent.step.subject_template = "Ünpaid: 100% of INV_7"
    percent.step.save()
    decoy = due_row(company)
    decoy.step.subject_template = "Unpaid: 1000 of INVX7"
    decoy.step.save()
    api.get(queue_url(company))  # promote

    assert _ids(api, company, search="SOCIÉTÉ") == {str(accented.pk)}
    assert _ids(api, company, search="ünPAID") == {str(percent.pk)}
    assert _ids(api, company, search="100%") == {str(percent.pk)}
    assert _ids(api, company, search="inv_7") == {str(percent.pk)}


@pytest.mark.parametrize("narrow_rows", [10_000, 0], ids=["narrow-plan", "broad-plan"])
def test_history_search_reads_subjects_too(api, company, settings, search_rows, narrow_rows):
    settings.QUEUE_NARROW_SEARCH_ROWS = narrow_rows
    api.get(queue_url(company))  # promote
    done = search_rows["subject"]
    ScheduledStep.objects.filter(pk=done.pk).update(status=ScheduledStep.Status.SENT)
    assert _ids(api, company, search="NARWHAL", category="history") == {str(done.pk)}
    assert _ids(api, company, search="NARWHAL") == set()


def test_a_search_matching_more_customers_than_are_inlined_misses_none(api, company, settings):
    settings.QUEUE_NARROW_SEARCH_ROWS = 0
    Customer.objects.bulk_create(
        Customer(company=company, name=f"Filler Gnu {i}") for i in range(search.MAX_INLINE_IDS)
    )
    last = due_row(company, customer=CustomerFactory(company=company, name="Zz Gnu last"))
    InvoiceFactory(customer=last.customer)
    assert _ids(api, company, search="gnu") == {str(last.pk)}


def test_list_with_filters_and_search_has_a_fixed_number_of_queries(
    api, company, member, settings, django_assert_max_num_queries
):
    for _ in range(3):
        customer = CustomerFactory(company=company, name="Acme", ar_owner=member)
        InvoiceFactory(customer=customer)
        due_row(company, customer=customer)
    for narrow_rows in (10_000, 0):
        settings.QUEUE_NARROW_SEARCH_ROWS = narrow_rows
        api.get(queue_url(company))  # promote first
        # auth, membership, promotion, 3 name searches, statistics, count, page, and for a narrow
        # search the page's sequences, steps and customers (prefetched): never a query per row
        with django_assert_max_num_queries(14):
            body = api.get(
                queue_url(company), {"search": "acme", "ar_owner": str(member.pk), "step_type": "reminder"}
            ).json()
        assert body["count"] == 3


def test_planner_statistics_are_read_once_per_interval(api, company, monkeypatch):
    monkeypatch.setattr(search, "_stats_memo", [0.0, None])

    def statistics_reads():
        with CaptureQueriesContext(connection) as queries:
            api.get(queue_url(company), {"category": "history", "search": "acme"})
        return sum("pg_stats" in query["sql"] for query in queries.captured_queries)

    assert statistics_reads() == 1
    assert statistics_reads() == 0
    monkeypatch.setattr(search, "STATS_TTL_SECONDS", 0)
    assert statistics_reads() == 1


def company_customer_url(company, customer):
    return f"/api/companies/{company.pk}/customers/{customer.pk}"


@pytest.mark.parametrize("narrow_rows", [10_000, 0], ids=["narrow-plan", "broad-plan"])
def test_an_upcoming_search_matches_names_and_never_reads_subjects(api, company, settings, narrow_rows):
    """Scheduled rows have no subject yet (queue.0008 dropped that tab's subject index)."""
    settings.QUEUE_NARROW_SEARCH_ROWS = narrow_rows
    later = timezone.now() + datetime.timedelta(days=3)
    upcoming = due_row(company, status=ScheduledStep.Status.SCHEDULED, scheduled_for=later)
    upcoming.customer.name = "Upcoming Ibex Ltd"
    upcoming.customer.save()
    with CaptureQueriesContext(connection) as queries:
        assert _ids(api, company, search="ibex", category="upcoming") == {str(upcoming.pk)}
    assert not [q["sql"] for q in queries.captured_queries if "subject_lower" in q["sql"]]

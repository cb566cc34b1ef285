"""An unfiltered tab's count is the sum of running status counts kept by triggers (queue.0007): it
must equal the rows after every kind of write, and compaction must not change it."""

import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from enrollments.models import Enrollment, ScheduledStep
from enrollments.services import enrollments_bulk_create
from outreach_queue.models import StatusCount
from outreach_queue.selectors import CATEGORY_STATUSES, queue_row_list
from outreach_queue.services import queue_rows_promote, status_counts_compact
from outreach_queue.services.counts import COMPACTION_LOCK
from tests.factories.core import CompanyFactory, CustomerFactory, InvoiceFactory
from tests.factories.sequences import SequenceStepFactory
from tests.outreach_queue.helpers import Status, due_row, ready_row, sequence_with_sender
from tests.outreach_queue.test_api import queue_url

pytestmark = pytest.mark.django_db


def _listed_counts(api, company):
    return {tab: api.get(queue_url(company), {"category": tab}).json()["count"] for tab in CATEGORY_STATUSES}


def _counts(company):
    """What an unfiltered tab answers, through the selector (any company, no membership needed)."""
    return {
        tab: queue_row_list(company=company, filters={"category": tab}).count() for tab in CATEGORY_STATUSES
    }


def _row_counts(company):
    rows = ScheduledStep.objects.filter(company=company)
    return {tab: rows.filter(status__in=statuses).count() for tab, statuses in CATEGORY_STATUSES.items()}


def test_tab_counts_follow_every_kind_of_write(api, company):
    other = CompanyFactory()
    due_row(other)  # another company's rows count for it alone
    to_send, to_cancel, to_delete = (ready_row(company) for _ in range(3))
    call = due_row(company, step_type="call")
    due_row(company, scheduled_for=to_send.scheduled_for.replace(year=2099))
    assert _listed_counts(api, company) == _row_counts(company) == {"ready": 4, "upcoming": 1, "history": 0}

    assert api.post(queue_url(company, to_send, "send"), {}, format="json").status_code == 200
    assert api.post(queue_url(company, to_cancel, "cancel")).status_code == 200
    assert api.post(queue_url(company, call, "complete")).status_code == 200
    Enrollment.objects.filter(pk=to_delete.enrollment_id).delete()  # its rows go by cascade
    ScheduledStep.objects.filter(company=company, status=Status.SCHEDULED).update(status=Status.FAILED)
    assert _listed_counts(api, company) == _row_counts(company) == {"ready": 0, "upcoming": 0, "history": 4}

    folded = status_counts_compact()
    assert folded > 0
    assert _listed_counts(api, company) == _row_counts(company)
    by_status = StatusCount.objects.filter(company_id=company.pk).values_list("status", "rows")
    assert sorted(by_status) == [("cancelled", 1), ("completed", 1), ("failed", 1), ("sent", 1)]
    assert status_counts_compact() == 0  # nothing left to fold
    other_counts = {
        tab: queue_row_list(company=other, filters={"category": tab}).count() for tab in CATEGORY_STATUSES
    }
    assert other_counts == _row_counts(other) == {"ready": 0, "upcoming": 1, "history": 0}


def test_counts_that_come_back_to_zero_are_dropped(company):
    row = due_row(company)
    Enrollment.objects.filter(pk=row.enrollment_id).delete()
    assert StatusCount.objects.filter(company_id=company.pk).count() == 2  # +1 then -1
    assert status_counts_compact() == 2
    assert not StatusCount.objects.filter(company_id=company.pk).exists()


def test_an_unfiltered_tab_is_not_counted_row_by_row(api, company):
    ready_row(company)
    with CaptureQueriesContext(connection) as queries:
        body = api.get(queue_url(company), {"category": "ready"}).json()
    assert body["count"] == len(body["data"]) == 1
    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert counts == [], counts
    # a filter counts the rows themselves
    with CaptureQueriesContext(connection) as queries:
        assert api.get(queue_url(company), {"step_type": "reminder"}).json()["count"] == 1
    assert any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_rows_already_there(company):
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("queue", "0006_queue_owner_indexes")])
        # Rows written as they stand (promotion's code is today's: it reads tables of later migrations).
        due_row(company, status=Status.READY)
        due_row(company, status=Status.SENT)
        executor.loader.build_graph()
        executor.migrate([("queue", "0007_queue_status_counts")])
        by_status = StatusCount.objects.filter(company_id=company.pk).values_list("status", "rows")
        assert sorted(by_status) == [("ready", 1), ("sent", 1)]
        due_row(company, status=Status.READY)  # and the triggers count from there on
        assert queue_row_list(company=company, filters={"category": "ready"}).count() == 2
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_one_statement_across_companies_and_statuses_counts_each(company):
    other = CompanyFactory()
    due_row(company)
    failing = due_row(company)
    failing.step.subject_template = "{{ 'x' * 601 }}"  # renders too long: the row fails
    failing.step.save()
    due_row(other)
    with CaptureQueriesContext(connection) as queries:
        assert queue_rows_promote() == 3  # every company's rows, one batch
    table = ScheduledStep._meta.db_table
    updates = [q for q in queries.captured_queries if q["sql"].lstrip().startswith(f"UPDATE {table}")]
    assert len(updates) == 1, updates  # one statement moved both companies' rows to both statuses
    assert _counts(company) == _row_counts(company) == {"ready": 1, "upcoming": 0, "history": 1}
    assert _counts(other) == _row_counts(other) == {"ready": 1, "upcoming": 0, "history": 0}


def test_bulk_enrolling_is_counted(company):
    sequence = sequence_with_sender(company)
    SequenceStepFactory(sequence=sequence, offset_days=400)
    SequenceStepFactory(sequence=sequence, offset_days=401)
    customers = CustomerFactory.create_batch(3, company=company)
    for customer in customers:
        InvoiceFactory(customer=customer)
    enrollments_bulk_create(sequence=sequence, customer_ids=[customer.pk for customer in customers])
    assert _counts(company) == _row_counts(company) == {"ready": 0, "upcoming": 6, "history": 0}


def test_truncating_the_rows_empties_the_counts(company):
    ready_row(company)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending FK checks
        cursor.execute(f"TRUNCATE {ScheduledStep._meta.db_table} CASCADE")
    assert not StatusCount.objects.exists()
    assert _counts(company) == {"ready": 0, "upcoming": 0, "history": 0}


def test_truncating_the_rows_and_the_counts_together_works(company):
    ready_row(company)  # as Django's flush does: one TRUNCATE of both tables, which fires the trigger
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {ScheduledStep._meta.db_table}, {StatusCount._meta.db_table} CASCADE")
    assert not StatusCount.objects.exists()
    ready_row(company)
    assert _counts(company) == {"ready": 1, "upcoming": 0, "history": 0}


def test_recount_rebuilds_counts_that_drifted(company):
    ready_row(company)
    StatusCount.objects.create(company_id=company.pk, status="ready", rows=5)  # as a loaded dump would
    assert _counts(company)["ready"] == 6
    out = io.StringIO()
    call_command("queue_recount", stdout=out)
    assert out.getvalue().strip() == "counted 1 queue rows"
    assert list(StatusCount.objects.values_list("status", "rows")) == [("ready", 1)]
    assert _counts(company) == _row_counts(company)


def test_a_compaction_under_way_makes_another_return_at_once(company):
    row = due_row(company)
    Enrollment.objects.filter(pk=row.enrollment_id).delete()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other_compaction:
        other_compaction.execute("SELECT pg_advisory_lock(%s)", [COMPACTION_LOCK])
        assert status_counts_compact() == 0
        assert StatusCount.objects.filter(company_id=company.pk).count() == 2
        # Released here, not left to the server noticing the closed connection: the next test (or
        # another xdist worker's) would find the lock still held for a moment.
        other_compaction.execute("SELECT pg_advisory_unlock(%s)", [COMPACTION_LOCK])
    assert status_counts_compact() == 2

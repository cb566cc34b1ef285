"""events_record: one statement writes the events of many objects, in the caller's transaction, with
`data` in the API's shape; the cursor order never lets a reader skip an event."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from enrollments.api.serializers import EnrollmentSerializer
from enrollments.payloads import ENROLLMENT
from events.models import Event, WebhookDelivery, WebhookEndpoint
from events.selectors import event_page
from events.services import events_purge, events_record
from events.types import ENROLLMENT_CREATED
from tests.events.helpers import as_api_json
from tests.factories.enrollments import EnrollmentFactory
from tests.factories.sequences import SequenceFactory

pytestmark = pytest.mark.django_db


def test_one_statement_records_every_object_with_its_api_shape(company, django_assert_num_queries):
    sequence = SequenceFactory(company=company, status="active")
    enrollments = EnrollmentFactory.create_batch(3, sequence=sequence, invoice=None)
    with django_assert_num_queries(1):
        assert (
            events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[e.id for e in enrollments])
            == 3
        )
    for enrollment in enrollments:
        event = Event.objects.get(subject_id=enrollment.id)
        assert (event.type, event.company_id, event.subject_type) == (
            ENROLLMENT_CREATED,
            company.id,
            "enrollment",
        )
        assert (event.customer_id, event.enrollment_id) == (enrollment.customer_id, enrollment.id)
        assert event.data == as_api_json(EnrollmentSerializer(enrollment).data)


def test_an_unknown_type_is_refused_and_missing_objects_are_skipped(company):
    with pytest.raises(ValueError):
        events_record(type="enrollment.exploded", subject_type=ENROLLMENT, ids=[])
    assert events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[uuid.uuid4()]) == 0
    assert events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[]) == 0


def test_no_event_survives_a_rolled_back_change(company):
    enrollment = EnrollmentFactory(sequence=SequenceFactory(company=company, status="active"))
    with pytest.raises(RuntimeError), transaction.atomic():
        events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[enrollment.id])
        raise RuntimeError("the change fails after its event was written")
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_behind_a_running_transaction_is_not_skipped_by_a_cursor():
    """Transaction A takes a low seq and stays open; B commits a higher seq. A reader must not see B
    before A settles, or its cursor would pass A's place for good."""
    from tests.factories.core import CompanyFactory

    company = CompanyFactory()
    sequence = SequenceFactory(company=company, status="active")
    first, second = EnrollmentFactory.create_batch(2, sequence=sequence)
    a_wrote, release = threading.Event(), threading.Event()

    def transaction_a():
        with transaction.atomic():
            events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[first.id])
            a_wrote.set()
            release.wait(10)
        connection.close()

    a = threading.Thread(target=transaction_a)
    a.start()
    assert a_wrote.wait(10)
    events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[second.id])  # B commits
    while_a_runs = event_page(company=company)
    release.set()
    a.join(10)
    after_a = event_page(company=company)

    assert while_a_runs.data == []
    # A's transaction id is older, so its event sorts first although B committed first.
    assert [e.subject_id for e in after_a.data] == [first.id, second.id]


def test_pages_walk_oldest_first_with_after_and_has_more(company):
    sequence = SequenceFactory(company=company, status="active")
    enrollments = EnrollmentFactory.create_batch(5, sequence=sequence)
    for enrollment in enrollments:
        events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[enrollment.id])
    page = event_page(company=company, limit=2)
    walked = [e.subject_id for e in page.data]
    while page.has_more:
        page = event_page(company=company, limit=2, after=page.data[-1].id)
        walked += [e.subject_id for e in page.data]
    assert walked == [e.id for e in enrollments]


def test_events_older_than_thirty_days_are_purged_with_their_deliveries(company):
    WebhookEndpoint.objects.create(
        company=company, url="https://hooks.example/in", event_types=["*"], secret="x"
    )
    sequence = SequenceFactory(company=company, status="active")
    old, recent = EnrollmentFactory.create_batch(2, sequence=sequence)
    now = timezone.now()
    for enrollment, age in ((old, 31), (recent, 29)):
        events_record(
            type=ENROLLMENT_CREATED,
            subject_type=ENROLLMENT,
            ids=[enrollment.id],
            occurred_at=now - timedelta(days=age),
        )
    assert WebhookDelivery.objects.count() == 2
    assert events_purge(now=now) == 1
    assert [e.subject_id for e in Event.objects.all()] == [recent.id]
    assert [d.event.subject_id for d in WebhookDelivery.objects.all()] == [recent.id]


@pytest.mark.django_db(transaction=True)
def test_a_long_transaction_in_another_database_does_not_hold_events_back():
    """Transaction ids are server-wide: only this database's running transactions may hide events."""
    import psycopg

    from tests.factories.core import CompanyFactory

    company = CompanyFactory()
    enrollment = EnrollmentFactory(sequence=SequenceFactory(company=company, status="active"))
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    for django_only in ("cursor_factory", "context"):
        params.pop(django_only, None)
    with psycopg.connect(**params) as elsewhere:
        elsewhere.execute("SELECT txid_current()")  # an open transaction with an xid older than ours
        events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[enrollment.id])  # commits
        assert [e.subject_id for e in event_page(company=company).data] == [enrollment.id]


def test_the_daily_purge_task_runs_the_purge(company):
    from events.tasks import purge_events

    enrollment = EnrollmentFactory(sequence=SequenceFactory(company=company, status="active"))
    events_record(
        type=ENROLLMENT_CREATED,
        subject_type=ENROLLMENT,
        ids=[enrollment.id],
        occurred_at=timezone.now() - timedelta(days=40),
    )
    assert purge_events() == 1 and not Event.objects.exists()

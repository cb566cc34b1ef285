"""Webhook delivery through the task functions and their services, against a receiver on 127.0.0.1 that
verifies every request with `standardwebhooks`; retries, give-up and disabling on a fake clock."""

import datetime
import json

import pytest
from django.utils import timezone

from daylit.celery import app as celery_app
from enrollments.payloads import ENROLLMENT
from events import delivery as webhooks
from events.endpoints import webhook_endpoint_rotate_secret
from events.models import Event, WebhookDelivery, WebhookEndpoint
from events.services import DISPATCH_TASK, events_record
from events.tasks import deliver_webhook, dispatch_deliveries
from events.types import ENROLLMENT_CREATED, QUEUE_ROW_SENT
from tests.factories.enrollments import EnrollmentFactory
from tests.factories.events import WebhookDeliveryFactory, WebhookEndpointFactory
from tests.factories.sequences import SequenceFactory
from tests.fakes.webhook_receiver import CLOSE, Hang, Trickle, WebhookReceiver

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status
SECOND, MINUTE, HOUR, DAY = (
    datetime.timedelta(**{unit: 1}) for unit in ("seconds", "minutes", "hours", "days")
)


def test_an_event_reaches_the_receiver_signed_once_through_the_tasks(
    company, endpoint, receiver, sent_tasks, django_capture_on_commit_callbacks
):
    enrollment = EnrollmentFactory(sequence=SequenceFactory(company=company, status="active"))
    with django_capture_on_commit_callbacks(execute=True):
        events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[enrollment.id])
    assert sent_tasks == [(DISPATCH_TASK, [])]  # after commit, one task wakes the dispatcher

    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_deliveries.run() == 1
    (name, (delivery_id,)) = sent_tasks[-1]
    assert name == "events.deliver_webhook"
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_webhook.run(delivery_id) == Status.DELIVERED

    event = Event.objects.get(subject_id=enrollment.id)
    (request,) = receiver.received
    assert receiver.refused == []
    assert request.headers["webhook-id"] == str(event.id)
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "id": str(event.id),
        "type": ENROLLMENT_CREATED,
        "occurred_at": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "company_id": str(company.id),
        "data": event.data,
    }
    row = WebhookDelivery.objects.get(pk=delivery_id)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == (Status.DELIVERED, 1, 200, "")
    assert row.next_attempt_at is None and row.locked_until is None and row.last_attempt_at is not None

    # The task again (a duplicate message, a redelivered ack_late task): nothing more is sent.
    assert deliver_webhook.run(delivery_id) is None
    assert dispatch_deliveries.run() == 0
    assert len(receiver.received) == 1


def test_only_enabled_endpoints_subscribed_to_the_type_get_a_delivery(company, endpoint, receiver, queue):
    WebhookEndpointFactory(company=company, url=receiver.url, event_types=[QUEUE_ROW_SENT])
    WebhookEndpointFactory(company=company, url=receiver.url, enabled=False)
    subscribed = WebhookEndpointFactory(company=company, url=receiver.url, event_types=[ENROLLMENT_CREATED])
    enrollment = EnrollmentFactory(sequence=SequenceFactory(company=company, status="active"))
    events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[enrollment.id])
    assert set(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == {endpoint.id, subscribed.id}


def test_every_attempt_carries_the_same_webhook_id_and_body(endpoint, receiver, queue):
    receiver.script(500)
    row = WebhookDeliveryFactory(endpoint=endpoint)
    now = row.created_at
    assert queue.drain(now) == [Status.PENDING]
    row.refresh_from_db()
    assert (row.attempts, row.last_status_code, row.next_attempt_at) == (1, 500, now + 5 * SECOND)
    assert row.last_error.startswith("HTTP 500")
    assert queue.drain(now + 4 * SECOND) == []  # not due yet
    assert queue.drain(now + 5 * SECOND) == [Status.DELIVERED]
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id == str(row.event.id)
    assert first.raw == second.raw


def test_the_schedule_then_failed_after_three_days_and_the_endpoint_disabled(endpoint, receiver, queue):
    receiver.always = 503
    row = WebhookDeliveryFactory(endpoint=endpoint)
    created = row.created_at
    delays = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]
    now, seen = created, []
    while True:
        assert queue.drain(now) != [], f"nothing was attempted at {now - created}"
        row.refresh_from_db()
        if row.status != Status.PENDING:
            break
        seen.append(row.next_attempt_at - now)
        assert queue.drain(row.next_attempt_at - SECOND) == []  # neither the delivery nor the endpoint is due
        now = row.next_attempt_at
    # The SPEC's delays, the last one repeating, and a last attempt exactly three days after creation.
    assert seen[:7] == delays
    assert all(delay == 10 * HOUR for delay in seen[7:-1])
    assert now == created + 3 * DAY
    assert (row.status, row.attempts, row.next_attempt_at) == (Status.FAILED, len(seen) + 1, None)
    assert len(receiver.received) == row.attempts == 13
    endpoint.refresh_from_db()
    assert (
        not endpoint.enabled
        and "three days" in endpoint.disabled_reason
        and "HTTP 503" in endpoint.disabled_reason
    )


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_pending_deliveries_end(
    endpoint, receiver, queue
):
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now - 3 * DAY, retry_at=now)
    receiver.always = 500
    failing = WebhookDeliveryFactory(endpoint=endpoint, next_attempt_at=now)
    waiting = WebhookDeliveryFactory(endpoint=endpoint, next_attempt_at=now + HOUR)
    assert queue.drain(now) == [Status.FAILED]  # this delivery is young; the endpoint is not
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason.startswith(
        "Every delivery failed for three days"
    )
    failing.refresh_from_db()
    waiting.refresh_from_db()
    assert failing.status == Status.FAILED and failing.attempts == 1
    assert waiting.status == Status.FAILED and "endpoint was disabled" in waiting.last_error
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status=Status.PENDING).count() == 0
    assert queue.drain(now + 4 * DAY) == []  # a disabled endpoint gets nothing


def test_a_success_clears_the_failure_history(endpoint, receiver, queue):
    receiver.script(500)
    row = WebhookDeliveryFactory(endpoint=endpoint)
    now = row.created_at
    queue.drain(now)
    endpoint.refresh_from_db()
    assert endpoint.failing_since == now and endpoint.retry_at == now + 5 * SECOND
    queue.drain(now + 5 * SECOND)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.retry_at is None and endpoint.enabled


def test_a_dead_endpoint_does_not_delay_another_endpoints_deliveries(company, receiver, queue, settings):
    settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = 3
    dead_receiver = WebhookReceiver().start()
    try:
        dead_receiver.always = 500
        dead = WebhookEndpointFactory(company=company, url=dead_receiver.url)
        dead_receiver.secrets = [dead.secret]
        healthy = WebhookEndpointFactory(company=company, url=receiver.url)
        receiver.secrets = [healthy.secret]
        now = timezone.now()
        WebhookDeliveryFactory.create_batch(20, endpoint=dead, next_attempt_at=now)
        first = queue.dispatch(now)
        assert len(first) == 3  # at most three in flight for it, whatever its backlog
        for delivery_id in first:
            queue.deliver(delivery_id, now)
        assert len(dead_receiver.received) == 3

        # The dead endpoint now backs off: dispatch claims only the healthy endpoint's new work.
        later = now + 2 * SECOND
        healthy_rows = WebhookDeliveryFactory.create_batch(5, endpoint=healthy, next_attempt_at=later)
        claimed = queue.drain(later)
        assert claimed == [Status.DELIVERED] * 5
        assert len(receiver.received) == 5 and len(dead_receiver.received) == 3
        assert all(WebhookDelivery.objects.get(pk=r.pk).status == Status.DELIVERED for r in healthy_rows)

        # When its backoff is due it gets one probe at a time, not its backlog.
        probe = queue.dispatch(now + 5 * SECOND)
        assert len(probe) == 1
        assert queue.dispatch(now + 5 * SECOND) == []  # the probe is still in flight
    finally:
        dead_receiver.stop()


def test_a_healthy_endpoints_backlog_is_capped_in_flight_and_refilled_as_each_one_lands(
    endpoint, receiver, queue, settings
):
    settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = 4
    now = timezone.now()
    WebhookDeliveryFactory.create_batch(10, endpoint=endpoint, next_attempt_at=now)
    pending = queue.dispatch(now)
    assert len(pending) == 4
    assert queue.dispatch(now) == []  # full
    while pending:
        claimed = WebhookDelivery.objects.filter(status=Status.PENDING, locked_until__gt=now).count()
        assert claimed <= 4
        since = len(queue.sent)
        assert queue.deliver(pending.pop(0), now) == Status.DELIVERED
        refill = queue.new_deliveries(since)
        assert len(refill) <= 1  # its success claimed the next one, if any is left
        pending += refill
    assert WebhookDelivery.objects.filter(status=Status.DELIVERED).count() == 10
    assert len(set(receiver.ids)) == len(receiver.ids) == 10


def test_a_task_goes_on_with_the_deliveries_handed_to_it_then_leaves_them_to_new_tasks(
    endpoint, receiver, queue, settings
):
    settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = 1
    now = timezone.now()
    WebhookDeliveryFactory.create_batch(5, endpoint=endpoint, next_attempt_at=now)
    (first,) = queue.dispatch(now)
    since = len(queue.sent)
    assert queue.deliver(first, now, chain_seconds=60) == Status.DELIVERED
    assert queue.new_deliveries(since) == []  # the whole backlog in one task, one at a time
    assert WebhookDelivery.objects.filter(status=Status.DELIVERED).count() == len(receiver.received) == 5

    WebhookDeliveryFactory.create_batch(2, endpoint=endpoint, next_attempt_at=now)
    (first,) = queue.dispatch(now)
    since = len(queue.sent)
    assert queue.deliver(first, now, chain_seconds=0) == Status.DELIVERED
    assert len(queue.new_deliveries(since)) == 1  # out of time: the next one is a task of its own


def test_a_task_whose_claim_expired_and_was_taken_again_sends_once(endpoint, receiver, queue):
    row = WebhookDeliveryFactory(endpoint=endpoint)
    now = row.created_at
    (stale,) = queue.dispatch(now)  # its task waits in a slow broker past the lease...
    (fresh,) = queue.dispatch(now + 61 * SECOND)  # ...so the sweep claims it again
    assert stale == fresh == str(row.pk)
    assert queue.deliver(stale, now + 62 * SECOND) == Status.DELIVERED
    assert queue.deliver(fresh, now + 62 * SECOND) is None
    assert len(receiver.received) == 1


def test_a_delivery_without_a_claim_is_not_sent(endpoint, receiver, queue):
    row = WebhookDeliveryFactory(endpoint=endpoint)
    assert queue.deliver(row.pk, row.created_at) is None  # nobody claimed it
    assert receiver.received == []


@pytest.mark.parametrize(
    "behaviour, error",
    [
        (500, "HTTP 500"),
        (302, "HTTP 302: redirects are not followed"),
        (CLOSE, "Connection failed"),
        (Hang(2), "No answer within"),
        # Each byte comes well within the timeout, the whole answer (6 s) never does: the attempt
        # still ends at TIMEOUT_SECONDS, not when the receiver is done.
        (Trickle(0.1), "No answer within"),
    ],
)
def test_each_kind_of_failure_is_a_failed_attempt_that_says_why(
    endpoint, receiver, queue, monkeypatch, behaviour, error
):
    monkeypatch.setattr(webhooks.attempt, "TIMEOUT_SECONDS", 0.5)  # read where the POST is made
    receiver.script(behaviour)
    row = WebhookDeliveryFactory(endpoint=endpoint)
    assert queue.drain(row.created_at) == [Status.PENDING]
    row.refresh_from_db()
    assert row.last_error.startswith(error), row.last_error
    assert row.attempts == 1 and row.next_attempt_at == row.created_at + 5 * SECOND


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one(endpoint, receiver, queue):
    old = endpoint.secret
    now = timezone.now()
    endpoint = webhook_endpoint_rotate_secret(endpoint=endpoint, now=now)
    new = endpoint.secret
    assert new != old and endpoint.previous_secret == old
    receiver.secrets = [old, new]

    WebhookDeliveryFactory(endpoint=endpoint, next_attempt_at=now)
    queue.drain(now + 23 * HOUR)
    (during,) = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert during.verified_with == [old, new]  # a receiver on either secret accepts it

    WebhookDeliveryFactory(endpoint=endpoint, next_attempt_at=now)
    queue.drain(now + 24 * HOUR)
    after = receiver.received[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert after.verified_with == [new]
    receiver.secrets = [old]
    WebhookDeliveryFactory(endpoint=endpoint, next_attempt_at=now)
    queue.drain(now + 25 * HOUR)
    assert len(receiver.received) == 2 and len(receiver.refused) == 1  # the old secret no longer verifies


def test_manual_retry_sends_a_failed_delivery_now_and_keeps_counting(endpoint, receiver, queue):
    now = timezone.now()
    row = WebhookDeliveryFactory(
        endpoint=endpoint, status=Status.FAILED, attempts=13, next_attempt_at=None, created_at=now - 4 * DAY
    )
    since = len(queue.sent)
    with queue.capture(execute=True):
        retried = webhooks.delivery_retry(delivery=row, now=now)
    assert (retried.status, retried.next_attempt_at, retried.attempts) == (Status.PENDING, now, 13)
    (delivery_id,) = queue.new_deliveries(since)
    assert queue.deliver(delivery_id, now) == Status.DELIVERED
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.DELIVERED, 14)


def test_manual_retry_of_an_old_delivery_that_fails_again_ends_failed(endpoint, receiver, queue):
    receiver.always = 500
    now = timezone.now()
    row = WebhookDeliveryFactory(
        endpoint=endpoint, status=Status.FAILED, attempts=13, next_attempt_at=None, created_at=now - 4 * DAY
    )
    with queue.capture(execute=True):
        webhooks.delivery_retry(delivery=row, now=now)
    assert queue.deliver(row.pk, now) == Status.FAILED  # one more attempt, not three more days


def test_a_retry_cuts_a_failing_endpoints_backoff_short_with_one_probe(endpoint, receiver, queue):
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now - HOUR, retry_at=now + 2 * HOUR)
    failed = WebhookDeliveryFactory(endpoint=endpoint, status=Status.FAILED, next_attempt_at=None)
    WebhookDeliveryFactory(endpoint=endpoint, next_attempt_at=now + 2 * HOUR)  # waits for its own time
    since = len(queue.sent)
    with queue.capture(execute=True):
        webhooks.delivery_retry(delivery=failed, now=now)
    assert queue.new_deliveries(since) == [str(failed.pk)]  # probed now, not in two hours
    endpoint.refresh_from_db()
    assert endpoint.retry_at == now
    assert queue.deliver(failed.pk, now) == Status.DELIVERED
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None  # and it is healthy again


def test_a_retry_waits_for_room_under_the_endpoints_cap(endpoint, receiver, queue, settings):
    settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = 1
    now = timezone.now()
    busy = WebhookDeliveryFactory(endpoint=endpoint, next_attempt_at=now)
    assert queue.dispatch(now) == [str(busy.pk)]
    failed = WebhookDeliveryFactory(endpoint=endpoint, status=Status.FAILED, next_attempt_at=None)
    since = len(queue.sent)
    with queue.capture(execute=True):
        retried = webhooks.delivery_retry(delivery=failed, now=now)
    assert (retried.status, retried.next_attempt_at, retried.locked_until) == (Status.PENDING, now, None)
    assert queue.new_deliveries(since) == []  # the endpoint's one slot is taken
    assert queue.deliver(busy.pk, now) == Status.DELIVERED  # ...and handed on when it lands
    assert queue.new_deliveries(since) == [str(failed.pk)]


def test_the_dispatch_sweep_ends_deliveries_left_pending_on_a_disabled_endpoint(endpoint, queue):
    row = WebhookDeliveryFactory(endpoint=endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    assert queue.dispatch(timezone.now()) == []
    row.refresh_from_db()
    assert row.status == Status.FAILED and "disabled" in row.last_error


def test_a_body_is_byte_for_byte_the_same_json_on_every_attempt(endpoint):
    row = WebhookDeliveryFactory(endpoint=endpoint, event__data={"name": "Ünïcode", "n": 1})
    first = webhooks.delivery_body(Event.objects.get(pk=row.event.pk))
    assert first == webhooks.delivery_body(Event.objects.get(pk=row.event.pk))
    assert json.loads(first)["data"] == {"name": "Ünïcode", "n": 1}


def test_webhook_tasks_run_on_their_own_queue_and_the_beat_sweeps_every_10_seconds(settings):
    router = celery_app.amqp.router
    assert router.route({}, "events.deliver_webhook")["queue"].name == "webhooks"
    assert router.route({}, DISPATCH_TASK)["queue"].name == "webhooks"
    assert router.route({}, "queue.promote_due")["queue"].name == "celery"  # never behind a slow receiver
    (sweep,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == DISPATCH_TASK]
    assert sweep["schedule"] == 10.0

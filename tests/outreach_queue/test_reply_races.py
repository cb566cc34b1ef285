"""A reply racing a send of the same enrollment, on real connections: the webhook's processing (the
worker's path: record, then process with the SDK read first) against a person's send or auto-send of the
enrollment's ready reminder. Either the send's claim came first, and the email went out once and the reply
still acts; or the reply's action came first, and nothing goes out (a person may still send a ready row
of a stopped enrollment: the SPEC leaves it to them). The reply is never lost."""

import datetime
import json
import time

import pytest
from django.utils import timezone

from connections import webhooks
from enrollments.models import Enrollment
from outreach_queue import services
from outreach_queue.models import Reply
from outreach_queue.services.delivery import row_idempotency_key
from tests.connections.test_webhooks import message_created
from tests.enrollments.test_concurrency import run_together
from tests.factories.enrollments import ScheduledStepFactory
from tests.outreach_queue.helpers import Status, ready_row, sequence_with_sender

pytestmark = pytest.mark.django_db(transaction=True)

SEND_DELAYS = (0, 0, 0.02, 0.05, 0.1, 1.5)  # seconds after the reply's processing starts
# (reply text, what its action does to the enrollment)
REPLIES = {
    "question": ("Could you send me a copy of the invoice, please?", "completed"),
    "out_of_office": ("I am out of the office until further notice with limited access to email.", "paused"),
}


def _reply_envelope(grant_id: str, text: str) -> dict:
    body = message_created(grant_id=grant_id, thread_id="t-race")
    body["data"]["object"].update(subject="Re: your invoice", snippet=text, body=f"<p>{text}</p>")
    return json.loads(json.dumps(body))


def _hear(envelope: dict) -> str | None:
    """What the webhook view and the worker do with one notification."""
    delivery, _created = webhooks.webhook_delivery_record(
        envelope=webhooks.parse_envelope(json.dumps(envelope).encode())
    )
    return webhooks.webhook_delivery_process(delivery_id=delivery.pk)


@pytest.mark.parametrize("auto", [False, True], ids=["person", "auto"])
@pytest.mark.parametrize("kind", list(REPLIES))
def test_a_reply_racing_a_send_of_the_same_enrollment(company, member, fake_nylas, auto, kind):
    text, after_reply = REPLIES[kind]
    blocks = auto or after_reply == "paused"
    outcomes = set()
    # The reply's path reads the message through the SDK first, so a send started with it usually wins;
    # later starts let the reply act first. Both orders must come out right, and both must be seen.
    for attempt, delay in enumerate(SEND_DELAYS):
        sequence = sequence_with_sender(company, auto_send=auto)
        sequence.sender_connection.grant_id = f"g-race-{kind}-{auto}-{attempt}"
        sequence.sender_connection.save(update_fields=["grant_id"])
        row = ready_row(company, sequence=sequence)
        ScheduledStepFactory(  # the email the customer answers, earlier in the same enrollment
            enrollment=row.enrollment,
            status=Status.SENT,
            sender_connection=sequence.sender_connection,
            provider_message_id=f"m-sent-{row.pk}",
            provider_thread_id="t-race",
            processed_at=timezone.now(),
        )
        ScheduledStepFactory(  # a later step, so the send does not finish the enrollment by itself
            enrollment=row.enrollment, scheduled_for=timezone.now() + datetime.timedelta(days=7)
        )

        def send(row=row, delay=delay):
            time.sleep(delay)
            if auto:
                return services.queue_row_auto_send(row_id=row.pk)
            return services.queue_row_send(row=row, member=member)

        envelope = _reply_envelope(sequence.sender_connection.grant_id, text)
        sent, heard = run_together(send, lambda envelope=envelope: _hear(envelope))

        assert not isinstance(heard, Exception), heard
        row.refresh_from_db()
        enrollment = Enrollment.objects.get(pk=row.enrollment_id)
        requests = [r for r in fake_nylas.requests if r["key"] == row_idempotency_key(row.pk)]
        reply = Reply.objects.get(enrollment_id=enrollment.pk)  # recorded once, whoever won
        assert reply.action in ("stopped", "paused"), reply.action
        if row.status == Status.SENT:  # the send's claim came first, or a person sends after a stop
            assert not isinstance(sent, Exception) and len(requests) == 1, sent
            outcomes.add("sent")
        else:  # the reply came first: nothing went out, and a person's send was refused
            assert blocks, (kind, auto, sent)
            assert requests == [] and row.status == Status.READY, (row.status, sent)
            assert auto or getattr(sent, "status_code", None) == 409, sent
            outcomes.add("held")
        # Either way the reply's action holds.
        assert enrollment.status == after_reply, enrollment.status
    # A stop leaves ready rows for a person to decide (SPEC), so only auto-send and pauses hold a send.
    assert outcomes == ({"sent", "held"} if blocks else {"sent"}), outcomes

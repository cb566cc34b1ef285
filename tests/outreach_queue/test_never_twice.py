"""Delivery at most once, against a fake Nylas that honours Idempotency-Key (tests/fakes/nylas.py)."""

import datetime
import threading

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from connections.sending import RetryableSendError, send_email
from enrollments.models import Enrollment, ScheduledStep
from outreach_queue.checks import send_settings_check
from outreach_queue.services import (
    queue_row_auto_send,
    queue_row_send,
    queue_rows_promote,
    queue_rows_reconcile_sending,
    row_idempotency_key,
)
from sequences.models import SequenceStep
from tests.conftest import company_url
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CompanyFactory
from tests.factories.enrollments import ScheduledStepFactory
from tests.factories.sequences import SequenceStepFactory
from tests.outreach_queue.helpers import Status, past, ready_row, sequence_with_sender

pytestmark = pytest.mark.django_db


def send_url(company, row):
    return company_url(company, f"sequences/queue/{row.pk}/send")


def row_url(company, row):
    return company_url(company, f"sequences/queue/{row.pk}")


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_sends_of_one_row_deliver_once(fake_nylas):
    company = CompanyFactory()
    row = ready_row(company)
    barrier = threading.Barrier(20)
    statuses, errors = [], []

    def send():
        try:
            barrier.wait()
            statuses.append(queue_row_send(row=row, member=None).status)
        except Exception as exc:  # noqa: BLE001 (collected and asserted below)
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(fake_nylas.requests) == 1 and len(fake_nylas.deliveries) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.provider_message_id == fake_nylas.deliveries[0]["message_id"]
    assert set(statuses) <= {Status.SENDING, Status.SENT} and Status.SENT in statuses


def test_500_then_retry_is_two_requests_with_one_key_and_one_delivery(api, company, fake_nylas):
    row = ready_row(company)
    fake_nylas.fail_next(500)
    first = api.post(send_url(company, row), {}, format="json")
    assert first.status_code == 502 and first.json()["code"] == "upstream_error"
    assert "500" in first.json()["detail"]
    row.refresh_from_db()
    assert row.status == Status.READY and "500" in row.error
    second = api.post(send_url(company, row), {}, format="json")
    assert second.status_code == 200 and second.json()["status"] == "sent" and second.json()["error"] == ""
    keys = [request["key"] for request in fake_nylas.requests]
    assert keys == [row_idempotency_key(row.pk)] * 2
    assert len(fake_nylas.deliveries) == 1


def test_429_answers_503_with_retry_after(api, company, fake_nylas):
    row = ready_row(company)
    fake_nylas.fail_next(
        429,
        {"request_id": "r", "error": {"type": "rate_limit_error", "message": "slow down"}},
        {"Retry-After": "9"},
    )
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 503 and response["Retry-After"] == "9"
    row.refresh_from_db()
    assert row.status == Status.READY and "slow down" in row.error


def test_non_json_answer_is_502_and_row_stays_ready(api, company, fake_nylas):
    row = ready_row(company)
    fake_nylas.fail_next(502, b"<html>proxy error</html>")
    assert api.post(send_url(company, row), {}, format="json").status_code == 502
    row.refresh_from_db()
    assert row.status == Status.READY


def test_400_ends_failed_and_is_not_retried(api, company, fake_nylas):
    row = ready_row(company)
    fake_nylas.fail_next(
        400, {"request_id": "r", "error": {"type": "invalid_request_error", "message": "bad to"}}
    )
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert "bad to" in response.json()["error"]
    again = api.post(send_url(company, row), {}, format="json")
    assert again.status_code == 200 and again.json()["status"] == "failed"
    assert len(fake_nylas.requests) == 1 and fake_nylas.deliveries == []


def test_timeout_after_delivery_then_resend_is_replayed_not_redelivered(api, company, fake_nylas, settings):
    settings.NYLAS_TIMEOUT_SECONDS = 0.5
    row = ready_row(company)
    fake_nylas.fail_next(deliver_then_hang=1.0)
    assert api.post(send_url(company, row), {}, format="json").status_code == 502
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "sent"
    assert len(fake_nylas.deliveries) == 1
    assert response.json()["provider_message_id"] == fake_nylas.deliveries[0]["message_id"]


def _stuck(row, *, started_minutes_ago):
    now = timezone.now()
    ScheduledStep.objects.filter(pk=row.pk).update(
        status=Status.SENDING,
        sender_connection=row.sequence.sender_connection,
        sending_started_at=now - datetime.timedelta(minutes=started_minutes_ago),
        updated_at=now - datetime.timedelta(minutes=started_minutes_ago),
        attempts=1,
    )


def test_reconciler_resends_a_stuck_row_with_the_same_key_inside_the_window(company, fake_nylas):
    row = ready_row(company)
    # The worker reached Nylas, then died before recording the answer.
    delivered = send_email(
        connection=row.sequence.sender_connection,
        to_email=row.to_email,
        subject=row.subject,
        body_plain=row.body_plain,
        body_html=row.body_html,
        idempotency_key=row_idempotency_key(row.pk),
    )
    _stuck(row, started_minutes_ago=10)
    assert queue_rows_reconcile_sending() == {"resent": 1, "failed": 0}
    row.refresh_from_db()
    assert row.status == Status.SENT and row.provider_message_id == delivered.message_id
    assert len(fake_nylas.requests) == 2 and len(fake_nylas.deliveries) == 1
    assert queue_rows_reconcile_sending() == {"resent": 0, "failed": 0}


def test_reconciler_fails_a_row_stuck_past_the_window_as_outcome_unknown(company, fake_nylas):
    row = ready_row(company)
    _stuck(row, started_minutes_ago=90)
    assert queue_rows_reconcile_sending() == {"resent": 0, "failed": 1}
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.error.startswith("outcome unknown")
    assert fake_nylas.requests == []


def test_reconciler_leaves_a_row_that_is_still_being_sent(company, fake_nylas):
    row = ready_row(company)
    _stuck(row, started_minutes_ago=0)
    assert queue_rows_reconcile_sending() == {"resent": 0, "failed": 0}
    row.refresh_from_db()
    assert row.status == Status.SENDING


# --- The sender is fixed by the first attempt (Nylas keeps idempotency keys per grant) ---


def _timeout_after_delivery(api, company, row, settings, fake_nylas, **body):
    settings.NYLAS_TIMEOUT_SECONDS = 0.5
    fake_nylas.fail_next(deliver_then_hang=1.0)
    assert api.post(send_url(company, row), body, format="json").status_code == 502


def test_uncertain_send_from_own_connection_then_send_without_sender_delivers_once(
    api, company, member, fake_nylas, settings
):
    own = EmailConnectionFactory(company=company, member=member)
    row = ready_row(company)
    _timeout_after_delivery(api, company, row, settings, fake_nylas, sender_connection_id=str(own.pk))
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "sent"
    assert response.json()["sender_connection_id"] == str(own.pk)
    assert len(fake_nylas.deliveries) == 1
    assert {request["grant"] for request in fake_nylas.requests} == {own.grant_id}


def test_another_sender_after_an_attempt_is_409(api, company, member, fake_nylas, settings):
    own = EmailConnectionFactory(company=company, member=member)
    row = ready_row(company)
    _timeout_after_delivery(api, company, row, settings, fake_nylas)
    response = api.post(send_url(company, row), {"sender_connection_id": str(own.pk)}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "sender_fixed"
    assert len(fake_nylas.requests) == 1 and len(fake_nylas.deliveries) == 1


def test_auto_send_retries_from_the_connection_of_a_persons_attempt(
    api, company, member, fake_nylas, settings
):
    own = EmailConnectionFactory(company=company, member=member)
    row = ready_row(company, sequence=sequence_with_sender(company, auto_send=True))
    _timeout_after_delivery(api, company, row, settings, fake_nylas, sender_connection_id=str(own.pk))
    ScheduledStep.objects.filter(pk=row.pk).update(next_attempt_at=None)  # due for auto-send now
    assert queue_row_auto_send(row_id=row.pk).status == Status.SENT
    assert len(fake_nylas.deliveries) == 1
    assert {request["grant"] for request in fake_nylas.requests} == {own.grant_id}


def test_auto_send_retries_from_the_first_sender_when_the_sequence_sender_changed(
    company, fake_nylas, settings
):
    sequence = sequence_with_sender(company, auto_send=True)
    first_sender = sequence.sender_connection
    row = ready_row(company, sequence=sequence)
    settings.NYLAS_TIMEOUT_SECONDS = 0.5
    fake_nylas.fail_next(deliver_then_hang=1.0)
    with pytest.raises(RetryableSendError):
        queue_row_auto_send(row_id=row.pk)
    sequence.sender_connection = EmailConnectionFactory(company=company)
    sequence.save()
    ScheduledStep.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert queue_row_auto_send(row_id=row.pk).status == Status.SENT
    assert len(fake_nylas.deliveries) == 1
    assert {request["grant"] for request in fake_nylas.requests} == {first_sender.grant_id}


# --- Nylas replays a key for one hour only ---


def test_retry_after_the_idempotency_window_fails_the_row_without_sending(api, company, fake_nylas):
    row = ready_row(company)
    ScheduledStep.objects.filter(pk=row.pk).update(
        error="Nylas did not answer within 30 s (outcome unknown)",
        attempts=1,
        sender_connection=row.sequence.sender_connection,
        sending_started_at=timezone.now() - datetime.timedelta(hours=2),
    )
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert response.json()["error"].startswith("outcome unknown")
    assert fake_nylas.requests == []


# --- After an attempt the email is frozen: Nylas answers the same key with another payload by 409 ---


def test_edit_after_an_attempt_is_409_and_the_retry_is_replayed(api, company, fake_nylas, settings):
    row = ready_row(company)
    _timeout_after_delivery(api, company, row, settings, fake_nylas)
    edit = api.patch(row_url(company, row), {"subject": "Changed my mind"}, format="json")
    assert edit.status_code == 409 and edit.json()["code"] == "content_frozen"
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "sent"
    assert response.json()["provider_message_id"] == fake_nylas.deliveries[0]["message_id"]
    assert len(fake_nylas.deliveries) == 1


def test_regenerate_after_an_attempt_is_409(api, company, fake_nylas, fake_ai):
    row = ready_row(company)
    SequenceStep.objects.filter(pk=row.step_id).update(instructions="Firm but friendly.")
    fake_nylas.fail_next(500)
    assert api.post(send_url(company, row), {}, format="json").status_code == 502
    response = api.post(company_url(company, f"sequences/queue/{row.pk}/regenerate"))
    assert response.status_code == 409 and response.json()["code"] == "content_frozen"
    assert fake_ai.requests == []


def test_a_retry_keeps_the_reply_to_decided_at_the_first_attempt(api, company, fake_nylas, settings):
    sequence = sequence_with_sender(company, send_followups_in_thread=True)
    first = ready_row(company, sequence=sequence)
    other = ScheduledStepFactory(
        enrollment=first.enrollment, step=SequenceStepFactory(sequence=sequence), scheduled_for=past()
    )
    queue_rows_promote(company=company)
    _timeout_after_delivery(api, company, first, settings, fake_nylas)  # delivered, outcome unknown
    assert api.post(send_url(company, other), {}, format="json").json()["status"] == "sent"
    response = api.post(send_url(company, first), {}, format="json")  # would now reply to `other`
    assert response.status_code == 200 and response.json()["status"] == "sent", response.json()
    assert response.json()["provider_message_id"] == fake_nylas.deliveries[0]["message_id"]
    assert len(fake_nylas.deliveries) == 2


def test_nylas_409_payload_differs_ends_the_row_failed_as_outcome_unknown(api, company, fake_nylas):
    row = ready_row(company)
    fake_nylas.fail_next(
        409, {"request_id": "r", "error": {"type": "api.invalid_idempotent_request", "message": "differs"}}
    )
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert response.json()["error"].startswith("outcome unknown") and "differs" in response.json()["error"]


# --- Auto-send and a reply that stops the enrollment between the read and the claim ---


def test_auto_send_does_not_claim_a_row_whose_enrollment_stopped_meanwhile(company, fake_nylas):
    row = ready_row(company, sequence=sequence_with_sender(company, auto_send=True))
    stopped = []

    def reply_arrives_before_the_claim(execute, sql, params, many, context):
        # A reply webhook commits "enrollment completed" right after auto-send read the row.
        if not stopped and sql.startswith('UPDATE "enrollments_scheduledstep"') and "sending" in params:
            stopped.append(True)
            Enrollment.objects.filter(pk=row.enrollment_id).update(
                status=Enrollment.Status.COMPLETED, completed_at=timezone.now()
            )
        return execute(sql, params, many, context)

    with db_connection.execute_wrapper(reply_arrives_before_the_claim):
        result = queue_row_auto_send(row_id=row.pk)
    assert stopped and fake_nylas.requests == []
    assert result.status == Status.READY  # left for a person to decide (SPEC)


def test_a_person_may_still_send_a_ready_row_of_a_stopped_enrollment(api, company, fake_nylas):
    row = ready_row(company)
    Enrollment.objects.filter(pk=row.enrollment_id).update(
        status=Enrollment.Status.COMPLETED, completed_at=timezone.now()
    )
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "sent"


# --- Header injection ---


@pytest.mark.parametrize(
    "field,value",
    [
        ("subject", "ok\r\nBcc: victim@example.com"),
        ("subject", "ok\nX: y"),
        ("to_email", "a@b.co\r\nBcc: c@d.co"),
    ],
)
def test_patch_rejects_line_breaks_in_headers(api, company, fake_nylas, field, value):
    row = ready_row(company)
    response = api.patch(row_url(company, row), {field: value}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


# --- Reconciler paths ---


def test_reconciler_resend_that_hits_5xx_puts_the_row_back_to_ready(company, fake_nylas):
    row = ready_row(company)
    _stuck(row, started_minutes_ago=10)
    fake_nylas.fail_next(503)
    assert queue_rows_reconcile_sending() == {"resent": 1, "failed": 0}
    row.refresh_from_db()
    assert row.status == Status.READY and "503" in row.error and row.next_attempt_at is not None
    assert len(fake_nylas.requests) == 1 and fake_nylas.deliveries == []


@pytest.mark.django_db(transaction=True)
def test_two_reconcilers_at_once_resend_a_stuck_row_once(fake_nylas):
    row = ready_row(CompanyFactory())
    _stuck(row, started_minutes_ago=10)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def reconcile():
        try:
            barrier.wait()
            results.append(queue_rows_reconcile_sending())
        except Exception as exc:  # noqa: BLE001 (collected and asserted below)
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=reconcile) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(r["resent"] for r in results) == 1
    assert len(fake_nylas.requests) == 1 and len(fake_nylas.deliveries) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_a_late_success_after_the_row_was_failed_is_logged_not_written(api, company, fake_nylas, caplog):
    row = ready_row(company)
    failed = []

    def reconciler_fails_it_first(execute, sql, params, many, context):
        # The reconciler settles the row while the worker's answer from Nylas is on its way.
        if not failed and sql.startswith('UPDATE "enrollments_scheduledstep"') and "sent" in (params or ()):
            failed.append(True)
            ScheduledStep.objects.filter(pk=row.pk).update(status=Status.FAILED, error="outcome unknown: x")
        return execute(sql, params, many, context)

    with db_connection.execute_wrapper(reconciler_fails_it_first):
        response = api.post(send_url(company, row), {}, format="json")
    assert failed and response.json()["status"] == "failed"
    message_id = fake_nylas.deliveries[0]["message_id"]
    assert any(message_id in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_settings_check_stuck_after_must_exceed_the_nylas_timeout(settings):
    assert send_settings_check(None) == []
    settings.SENDING_STUCK_AFTER_SECONDS = 30
    settings.NYLAS_TIMEOUT_SECONDS = 30
    assert [e.id for e in send_settings_check(None)] == ["queue.E001"]
    settings.SENDING_STUCK_AFTER_SECONDS = 300
    settings.AUTO_SEND_MAX_RETRIES = 30
    assert [e.id for e in send_settings_check(None)] == ["queue.E002"]


# --- Content that changes between the sender's read and its claim ---


def _before_the_claim(row, change):
    """Run `change` just before the claim locks the row: a later edit would wait for the claim."""
    done = []

    def wrapper(execute, sql, params, many, context):
        locks_the_row = sql.startswith('SELECT "enrollments_scheduledstep"') and sql.endswith("FOR UPDATE")
        if not done and locks_the_row:
            done.append(True)
            change()
        return execute(sql, params, many, context)

    return wrapper, done


def test_an_edit_just_before_the_claim_is_what_goes_out(company, member, fake_nylas):
    from outreach_queue.services import queue_row_send

    row = ready_row(company)
    edit = lambda: ScheduledStep.objects.filter(pk=row.pk).update(subject="Edited at the last second")  # noqa: E731
    wrapper, done = _before_the_claim(row, edit)
    with db_connection.execute_wrapper(wrapper):
        sent = queue_row_send(row=row, member=None, sender_connection=row.sequence.sender_connection)
    assert done and sent.status == Status.SENT and sent.subject == "Edited at the last second"
    assert fake_nylas.deliveries[0]["subject"] == "Edited at the last second"


def test_auto_send_does_not_claim_a_row_that_became_an_ai_draft_meanwhile(company, fake_nylas):
    row = ready_row(company, sequence=sequence_with_sender(company, auto_send=True))
    regenerate = lambda: ScheduledStep.objects.filter(pk=row.pk).update(generated=True)  # noqa: E731
    wrapper, done = _before_the_claim(row, regenerate)
    with db_connection.execute_wrapper(wrapper):
        result = queue_row_auto_send(row_id=row.pk)
    assert done and fake_nylas.requests == []
    assert result.status == Status.READY


def test_an_absurd_retry_after_keeps_the_row_retryable(api, company, fake_nylas):
    row = ready_row(company)
    fake_nylas.fail_next(
        429,
        {"request_id": "r", "error": {"type": "rate_limit_error", "message": "slow"}},
        headers={"Retry-After": "99999999999999"},
    )
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 503 and response["Retry-After"] == "86400"
    row.refresh_from_db()
    assert row.status == Status.READY

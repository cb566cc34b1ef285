"""AI drafts in the queue: generated at promotion through a fake OpenAI-compatible server on 127.0.0.1,
reviewed and sent like any email, retried while the provider is down, never auto-sent unless opted in."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from daylit.celery import app as celery_app
from enrollments.models import ScheduledStep
from outreach_queue import services
from outreach_queue.tasks import generate_draft
from tests.conftest import company_url
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory
from tests.fakes.openai_server import draft_json

pytestmark = pytest.mark.django_db
Status = ScheduledStep.Status

GOOD_DRAFT = draft_json(
    subject="Invoice INV-777 is overdue",
    body_plain="Hello Acme, invoice INV-777 for 640.00 USD is overdue. Thanks, Dana",
    body_html="<p>Hello Acme, invoice <b>INV-777</b> for 640.00 USD is overdue.</p><script>x()</script>",
)


@pytest.fixture
def eager():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def retries_run_inline():
    """Eager Celery re-applies a retried task at once (countdown ignored); nested retries must not raise."""
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


def instructed_row(
    company, *, templates=False, step_type="reminder", sequence=None, number="INV-777", **seq_fields
):
    if sequence is None:
        sender = EmailConnectionFactory(company=company, email="dana@seller.example")
        sequence = SequenceFactory(company=company, status="active", sender_connection=sender, **seq_fields)
    customer = CustomerFactory(company=company, name="Acme", email="ap@acme.example")
    InvoiceFactory(customer=customer, number=number, amount_due=Decimal("640.00"))
    step_fields = (
        {} if templates else {"subject_template": "", "body_plain_template": "", "body_html_template": ""}
    )
    step = SequenceStepFactory(
        sequence=sequence,
        step_type=step_type,
        instructions="Firm but friendly; mention the amount.",
        **step_fields,
    )
    enrollment = EnrollmentFactory(sequence=sequence, company=company, customer=customer)
    return ScheduledStepFactory(
        enrollment=enrollment, step=step, scheduled_for=timezone.now() - datetime.timedelta(minutes=1)
    )


def promote(company, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_rows_promote(company=company)


def test_promotion_drafts_an_instructed_reminder(company, fake_ai, eager, django_capture_on_commit_callbacks):
    fake_ai.answer(GOOD_DRAFT)
    row = instructed_row(company)
    promote(company, django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.status == Status.READY and row.error == ""
    assert (row.generated, row.prompt_version, row.draft_pending) == (True, "reminder-v1", False)
    assert row.subject == "Invoice INV-777 is overdue"
    assert "<script>" not in row.body_html and "<b>INV-777</b>" in row.body_html
    prompt = fake_ai.requests[0]["body"]["messages"][1]["content"]
    assert (
        "Firm but friendly" in prompt
        and '"amount_due": "640.00"' in prompt
        and "dana@seller.example" in prompt
    )


def test_template_frame_reaches_the_prompt(company, fake_ai, eager, django_capture_on_commit_callbacks):
    fake_ai.answer(GOOD_DRAFT)
    row = instructed_row(company, templates=True)
    promote(company, django_capture_on_commit_callbacks)
    prompt = fake_ai.requests[0]["body"]["messages"][1]["content"]
    assert "FRAME:\nSubject: Invoice INV-777 is due" in prompt
    row.refresh_from_db()
    assert row.generated


def test_review_edit_and_send_a_generated_draft(
    api, company, fake_ai, eager, django_capture_on_commit_callbacks
):
    fake_ai.answer(GOOD_DRAFT)
    row = instructed_row(company)
    promote(company, django_capture_on_commit_callbacks)
    listed = api.get(company_url(company, "sequences/queue")).json()["data"]
    assert [(r["id"], r["generated"], r["draft_pending"]) for r in listed] == [(str(row.id), True, False)]
    url = company_url(company, f"sequences/queue/{row.id}")
    edited = api.patch(url, {"subject": "A friendly reminder: INV-777"}, format="json").json()
    assert edited["subject"] == "A friendly reminder: INV-777" and edited["generated"] is True
    sent = api.post(f"{url}/send", {}, format="json")
    assert sent.status_code == 200, sent.json()
    assert sent.json()["status"] == "sent" and sent.json()["subject"] == "A friendly reminder: INV-777"


def test_a_pending_draft_cannot_be_sent_until_a_person_writes_it(api, company, fake_ai):
    fake_ai.answer("not json at all")
    row = instructed_row(company)
    services.queue_rows_promote(company=company)  # no on-commit: the task never ran
    row.refresh_from_db()
    assert row.status == Status.READY and row.draft_pending and row.subject == ""
    url = company_url(company, f"sequences/queue/{row.id}")
    refused = api.post(f"{url}/send", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "draft_pending"
    api.patch(url, {"subject": "Invoice INV-777", "body_plain": "Please pay."}, format="json")
    row.refresh_from_db()
    assert (row.draft_pending, row.generated) == (False, False)
    assert api.post(f"{url}/send", {}, format="json").json()["status"] == "sent"


@pytest.mark.parametrize(
    "answer, reason",
    [
        ("this is not json", "not a valid draft"),
        (json.dumps({"subject": "Hello"}), "body_plain"),
        (draft_json(body_plain="Please pay the 9,999.00 USD you owe."), "amount 9999.00"),
        (draft_json(subject="Invoice INV-9 is late"), "INV-9"),
    ],
)
def test_a_rejected_draft_leaves_the_row_pending_with_the_reason(
    company, fake_ai, eager, django_capture_on_commit_callbacks, answer, reason
):
    fake_ai.answer(answer)
    row = instructed_row(company)
    promote(company, django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.status == Status.READY and row.draft_pending and not row.generated
    assert (row.subject, row.body_plain) == ("", "")
    assert reason in row.error and "regenerate" in row.error
    assert len(fake_ai.requests) == 1  # a rejected draft is not retried by itself


def test_provider_failures_retry_with_backoff_then_succeed(company, fake_ai, eager, retries_run_inline):
    fake_ai.answer(status=500, body=b'{"error": {"message": "boom"}}')
    fake_ai.answer(status=429, body=b'{"error": {"message": "slow"}}', headers={"Retry-After": "1"})
    fake_ai.answer(GOOD_DRAFT)
    row = instructed_row(company)
    services.queue_rows_promote(company=company)
    generate_draft.apply(args=[str(row.id)])
    row.refresh_from_db()
    assert len(fake_ai.requests) == 3
    assert (row.draft_attempts, row.generated, row.error) == (3, True, "")


def test_after_the_last_attempt_the_row_waits_for_a_person(
    company, fake_ai, eager, settings, retries_run_inline
):
    settings.AI_MAX_ATTEMPTS = 2
    settings.AI_TIMEOUT_SECONDS = 0.3
    fake_ai.answer(draft_json(), delay=1.0)
    fake_ai.answer(status=503, body=b"<html>down</html>")
    row = instructed_row(company)
    services.queue_rows_promote(company=company)
    generate_draft.apply(args=[str(row.id)])
    row.refresh_from_db()
    assert len(fake_ai.requests) == 2
    assert row.status == Status.READY and row.draft_pending and row.subject == ""
    assert row.error.startswith("AI draft failed after 2 attempts")
    assert services.queue_rows_draft_sweep(now=timezone.now() + datetime.timedelta(hours=1)) == 0


def test_without_a_provider_instruction_only_rows_fail_and_framed_ones_render(company, settings):
    settings.AI_API_KEY = ""
    alone = instructed_row(company)
    framed = instructed_row(company, templates=True, number="INV-778")
    services.queue_rows_promote(company=company)
    alone.refresh_from_db()
    framed.refresh_from_db()
    assert alone.status == Status.FAILED and "not configured" in alone.error
    assert (
        framed.status == Status.READY and framed.subject == "Invoice INV-778 is due" and not framed.generated
    )


def test_generated_drafts_are_not_auto_sent_unless_the_sequence_opts_in(
    company, fake_ai, eager, django_capture_on_commit_callbacks
):
    refused = instructed_row(company, auto_send=True)
    allowed = instructed_row(company, auto_send=True, auto_send_generated=True, number="INV-778")
    promote(company, django_capture_on_commit_callbacks)
    planned = {plan.row_id for plan in services.queue_rows_auto_send_plan()}
    assert allowed.id in planned and refused.id not in planned
    assert services.queue_row_auto_send(row_id=refused.id) is None
    refused.refresh_from_db()
    assert refused.status == Status.READY


def test_regenerate_makes_a_new_draft(api, company, fake_ai, eager, django_capture_on_commit_callbacks):
    fake_ai.answer(GOOD_DRAFT)
    row = instructed_row(company)
    promote(company, django_capture_on_commit_callbacks)
    fake_ai.answer(draft_json(subject="Second try for INV-777", body_plain="Kindly pay 640.00 USD."))
    response = api.post(company_url(company, f"sequences/queue/{row.id}/regenerate"))
    assert response.status_code == 200, response.json()
    assert response.json()["subject"] == "Second try for INV-777" and response.json()["generated"] is True


def test_regenerate_keeps_the_previous_draft_when_the_new_one_is_rejected(
    api, company, fake_ai, eager, django_capture_on_commit_callbacks
):
    fake_ai.answer(GOOD_DRAFT)
    row = instructed_row(company)
    promote(company, django_capture_on_commit_callbacks)
    fake_ai.answer(draft_json(body_plain="You owe 1.00 USD."))
    body = api.post(company_url(company, f"sequences/queue/{row.id}/regenerate")).json()
    assert body["subject"] == "Invoice INV-777 is overdue" and "amount 1.00" in body["error"]


def test_regenerate_answers_502_when_the_provider_fails(api, company, fake_ai):
    row = instructed_row(company)
    services.queue_rows_promote(company=company)
    fake_ai.answer(status=500, body=b'{"error": {"message": "boom"}}')
    response = api.post(company_url(company, f"sequences/queue/{row.id}/regenerate"))
    assert response.status_code == 502 and "500" in response.json()["detail"]
    row.refresh_from_db()
    assert "500" in row.error


def test_regenerate_rules(api, anon, outsider_api, company, settings, fake_ai):
    no_instructions = instructed_row(company)
    SequenceStepFactory._meta.model.objects.filter(pk=no_instructions.step_id).update(
        instructions="", subject_template="Hi", body_plain_template="Hi"
    )
    call = instructed_row(company, step_type="call", number="INV-778")
    services.queue_rows_promote(company=company)
    url = company_url(company, "sequences/queue/{}/regenerate")
    assert api.post(url.format(no_instructions.id)).json()["code"] == "no_instructions"
    assert api.post(url.format(call.id)).json()["code"] == "not_a_reminder"
    # A variant row of an experiment keeps the variant's wording (an AI rewrite would void the test).
    variant = instructed_row(company, number="INV-780")
    services.queue_rows_promote(company=company)
    type(variant).objects.filter(pk=variant.pk).update(variant_key="firm")
    refused = api.post(url.format(variant.id))
    assert refused.status_code == 409 and refused.json()["code"] == "variant_row"
    assert anon.post(url.format(call.id)).status_code == 401
    assert outsider_api.post(url.format(call.id)).status_code == 404
    settings.AI_API_KEY = ""
    pending = instructed_row(company, templates=True, number="INV-779")
    services.queue_rows_promote(company=company)
    response = api.post(url.format(pending.id))
    assert response.status_code == 400 and "not configured" in response.json()["detail"]
    assert fake_ai.requests == []


def test_follow_ups_in_a_thread_give_the_earlier_emails(
    company, fake_ai, eager, django_capture_on_commit_callbacks
):
    row = instructed_row(company, send_followups_in_thread=True)
    ScheduledStepFactory(
        enrollment=row.enrollment,
        status=Status.SENT,
        subject="First reminder about INV-777",
        body_plain="We wrote to you on day one.",
        processed_at=timezone.now() - datetime.timedelta(days=3),
        scheduled_for=timezone.now() - datetime.timedelta(days=3),
    )
    promote(company, django_capture_on_commit_callbacks)
    prompt = fake_ai.requests[0]["body"]["messages"][1]["content"]
    assert "EARLIER EMAIL 1:\nSubject: First reminder about INV-777" in prompt


def test_the_sweep_re_enqueues_abandoned_pending_rows_once(company, fake_ai, eager):
    fake_ai.answer(GOOD_DRAFT)
    row = instructed_row(company)
    services.queue_rows_promote(company=company)  # the task was lost: nothing enqueued
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert services.queue_rows_draft_sweep(now=later) == 1
    assert services.queue_rows_draft_sweep(now=later) == 0
    row.refresh_from_db()
    assert row.draft_pending  # on_commit never fires inside the test transaction

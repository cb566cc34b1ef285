"""The AI draft generator against a fake OpenAI-compatible server on 127.0.0.1."""

import datetime
import json
from decimal import Decimal

import pytest

from sequences.drafting import (
    PROMPT_VERSION,
    DraftRejected,
    GenerationNotConfigured,
    GenerationUnavailable,
    check_facts,
    generate_draft,
    sanitize_html,
)
from sequences.templating import RenderedEmail, build_context
from tests.fakes.openai_server import draft_json

TODAY = datetime.date(2026, 11, 26)


def context(**overrides):
    invoice = {
        "number": "INV-1001",
        "amount_due": Decimal("1250.00"),
        "currency": "USD",
        "due_date": datetime.date(2026, 11, 14),
    }
    second = {
        "number": "INV-1002",
        "amount_due": Decimal("480.50"),
        "currency": "USD",
        "due_date": datetime.date(2026, 12, 1),
    }
    base = dict(
        company_name="Seller Co",
        customer_name="Acme",
        customer_email="ap@acme.example",
        invoice=invoice,
        open_invoices=[invoice, second],
        sender_name="Dana",
        sender_email="dana@seller.example",
        enrollment_start_date=TODAY,
        today=TODAY,
    )
    base.update(overrides)
    return build_context(**base)


def test_draft_is_generated_checked_and_versioned(fake_ai):
    fake_ai.answer(
        draft_json(
            subject="Invoice INV-1001 is 12 days overdue",
            body_plain="Hello Acme, invoice INV-1001 for 1,250.00 USD was due on 2026-11-14. "
            "In total 1730.50 USD is open.",
            body_html="<p>Hello Acme, invoice <strong>INV-1001</strong> for $1,250.00 is overdue.</p>",
        )
    )
    draft = generate_draft(instructions="Firm but friendly.", context=context())
    assert draft.subject == "Invoice INV-1001 is 12 days overdue"
    assert "<strong>INV-1001</strong>" in draft.body_html
    assert draft.prompt_version == PROMPT_VERSION
    request = fake_ai.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer test-ai-key"
    assert request["body"]["model"] == "fake-model"
    assert request["body"]["response_format"] == {"type": "json_object"}
    user = request["body"]["messages"][1]["content"]
    assert (
        "Firm but friendly." in user and '"number": "INV-1001"' in user and '"total_due": "1730.50"' in user
    )


def test_frame_and_history_reach_the_prompt(fake_ai):
    frame = RenderedEmail(subject="Invoice INV-1001", body_plain="Template body", body_html="")
    history = [{"subject": "First reminder", "body_plain": "We wrote before."}]
    generate_draft(instructions="Shorter.", context=context(), frame=frame, history=history)
    user = fake_ai.requests[0]["body"]["messages"][1]["content"]
    assert "FRAME:\nSubject: Invoice INV-1001" in user and "Template body" in user
    assert "EARLIER EMAIL 1:\nSubject: First reminder" in user


def test_hallucinated_amount_is_rejected(fake_ai):
    fake_ai.answer(draft_json(body_plain="Please pay the 1,999.99 USD you owe on invoice INV-1001."))
    with pytest.raises(DraftRejected, match="amount 1999.99"):
        generate_draft(instructions="x", context=context())


def test_hallucinated_invoice_number_is_rejected(fake_ai):
    fake_ai.answer(draft_json(subject="Invoice INV-7777 is overdue", body_plain="Please pay."))
    with pytest.raises(DraftRejected, match="INV-7777"):
        generate_draft(instructions="x", context=context())


def test_invented_due_date_is_rejected(fake_ai):
    fake_ai.answer(draft_json(body_plain="Invoice INV-1001 was due on March 3, 2026."))
    with pytest.raises(DraftRejected, match="2026-03-03"):
        generate_draft(instructions="x", context=context())


@pytest.mark.parametrize(
    "content, reason",
    [
        ("this is not json", "not a valid draft"),
        (json.dumps({"subject": "Hi"}), "body_plain"),
        (json.dumps({"subject": "", "body_plain": "x"}), "subject"),
        (json.dumps(["subject", "body"]), "not a valid draft"),
        (json.dumps({"subject": "two\nlines", "body_plain": "x"}), "one line"),
    ],
)
def test_invalid_json_from_the_model_is_rejected(fake_ai, content, reason):
    fake_ai.answer(content)
    with pytest.raises(DraftRejected, match=reason):
        generate_draft(instructions="x", context=context())


def test_html_is_sanitised(fake_ai):
    fake_ai.answer(
        draft_json(
            body_html='<p onclick="x()">Hi<script>alert(1)</script>'
            '<a href="javascript:alert(1)">pay</a><img src=x onerror=y></p>'
        )
    )
    draft = generate_draft(instructions="x", context=context())
    assert "script" not in draft.body_html and "onclick" not in draft.body_html
    assert "javascript:" not in draft.body_html and "<img" not in draft.body_html
    assert draft.body_html.startswith("<p>Hi")


@pytest.mark.parametrize(
    "answer, retry_after",
    [
        (
            {"status": 429, "body": b'{"error": {"message": "slow down"}}', "headers": {"Retry-After": "7"}},
            7.0,
        ),
        ({"status": 500, "body": b'{"error": {"message": "boom"}}'}, None),
        ({"status": 503, "body": b"<html>bad gateway</html>"}, None),
    ],
)
def test_transient_provider_failures_are_retryable(fake_ai, answer, retry_after):
    fake_ai.answer(**answer)
    with pytest.raises(GenerationUnavailable) as caught:
        generate_draft(instructions="x", context=context())
    assert caught.value.retryable and caught.value.retry_after == retry_after
    assert len(fake_ai.requests) == 1  # one call; retrying is the caller's decision


def test_timeout_is_retryable(fake_ai, settings):
    settings.AI_TIMEOUT_SECONDS = 0.3
    fake_ai.answer(draft_json(), delay=1.0)
    with pytest.raises(GenerationUnavailable, match="timed out"):
        generate_draft(instructions="x", context=context())


def test_refusal_is_permanent(fake_ai):
    fake_ai.answer(status=401, body=b'{"error": {"message": "bad key"}}')
    with pytest.raises(Exception) as caught:
        generate_draft(instructions="x", context=context())
    assert not getattr(caught.value, "retryable", True)
    assert "401" in str(caught.value)


def test_without_a_key_generation_is_not_configured(settings):
    settings.AI_API_KEY = ""
    with pytest.raises(GenerationNotConfigured, match="AI_API_KEY"):
        generate_draft(instructions="x", context=context())


@pytest.mark.parametrize(
    "text",
    [
        "Invoice INV-1001 for 1250.00 USD",
        "Total open: $1,730.50. Invoice #INV-1002 of 480.50 USD is due 2026-12-01.",
        "Your invoice INV-1001 was due November 14, 2026; we started on 26 Nov 2026.",
        "We are 30 days into this; call us at 555 0100.",
    ],
)
def test_facts_in_the_context_pass(text):
    assert check_facts(texts=[text], context=context()) == []


@pytest.mark.parametrize(
    "text",
    [
        "Pay EUR 12",
        "Pay 12.00 now",
        "Invoice AB-99 is late",
        "inv #4242 is late",
        "due 2026-02-30",
    ],
)
def test_facts_outside_the_context_fail(text):
    assert check_facts(texts=[text], context=context())


def test_sanitize_keeps_simple_formatting():
    html = '<p>Hi <strong>there</strong><br><a href="https://pay.example/x">pay</a></p>'
    cleaned = sanitize_html(html)
    assert "<strong>there</strong>" in cleaned and 'href="https://pay.example/x"' in cleaned


def test_an_http_date_retry_after_is_understood(fake_ai):
    fake_ai.answer(
        status=429,
        body=b'{"error": {"message": "slow"}}',
        headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"},
    )
    with pytest.raises(GenerationUnavailable) as caught:
        generate_draft(instructions="x", context=context())
    assert caught.value.retry_after == 86_400  # capped at a day


def test_an_amount_too_large_to_hold_is_rejected_not_a_crash(fake_ai):
    fake_ai.answer(draft_json(body_plain="You owe $12345678901234567890123456789.00 on invoice INV-1001."))
    with pytest.raises(DraftRejected, match="too large"):
        generate_draft(instructions="x", context=context())

"""The AI reading through a fake OpenAI-compatible server on 127.0.0.1: every failure is `other`."""

import datetime
import json
from decimal import Decimal

import pytest

from outreach_queue.reading import read_reply
from outreach_queue.reading.ai import PROMPT_VERSION

RECEIVED = datetime.datetime(2026, 3, 4, 9, 0, tzinfo=datetime.UTC)


def read(text="We will pay 1250 EUR on Friday.", **kwargs):
    kwargs.setdefault("headers", {})
    return read_reply(subject="Re: Invoice INV-1042", text=text, received_at=RECEIVED, **kwargs)


def answer(**fields):
    base = {
        "classification": "promise",
        "confidence": 0.92,
        "promised_date": "2026-03-06",
        "promised_amount": "1250.00",
        "dispute_reason": None,
    }
    return json.dumps(base | fields)


def assert_unread(reading):
    assert (reading.classification, reading.source, reading.prompt_version) == ("other", "none", "")
    assert (reading.promised_date, reading.promised_amount, reading.dispute_reason) == (None, None, None)


def test_a_good_answer_is_the_reading(fake_ai):
    fake_ai.answer(answer())
    reading = read()
    assert reading.classification == "promise"
    assert reading.confidence == pytest.approx(0.92)
    assert reading.promised_date == datetime.date(2026, 3, 6)
    assert reading.promised_amount == Decimal("1250.00")
    assert (reading.source, reading.prompt_version) == ("ai", PROMPT_VERSION)
    request = fake_ai.requests[0]
    assert request["body"]["model"] == "fake-model"
    assert request["body"]["response_format"] == {"type": "json_object"}
    assert "RECEIVED: 2026-03-04" in request["body"]["messages"][1]["content"]
    assert "We will pay 1250 EUR on Friday." in request["body"]["messages"][1]["content"]


def test_a_dispute_keeps_its_reason_other_classes_drop_one(fake_ai):
    fake_ai.answer(answer(classification="dispute", promised_date=None, dispute_reason="not_received"))
    fake_ai.answer(answer(classification="question", dispute_reason="pricing"))
    assert read("The goods never arrived.").dispute_reason == "not_received"
    assert read("Can you resend it?").dispute_reason is None


def test_a_promised_date_before_receipt_is_dropped(fake_ai):
    fake_ai.answer(answer(promised_date="2026-02-01"))
    reading = read()
    assert reading.classification == "promise"
    assert reading.promised_date is None


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        json.dumps({"classification": "maybe", "confidence": 0.5}),
        answer(confidence=7),
        answer(promised_amount="-5"),
        answer(promised_date="next Friday"),
        "",
    ],
)
def test_a_malformed_answer_is_other(fake_ai, content):
    fake_ai.answer(content)
    assert_unread(read())
    assert len(fake_ai.requests) == 1


def test_a_server_error_is_other(fake_ai):
    fake_ai.answer(status=500, body=b'{"error": {"message": "boom"}}')
    assert_unread(read())


def test_a_timeout_is_other(fake_ai, settings):
    settings.AI_TIMEOUT_SECONDS = 0.3
    fake_ai.answer(answer(), delay=1.0)
    assert_unread(read())


def test_an_unreachable_provider_is_other(settings):
    settings.AI_API_KEY = "key"
    settings.AI_BASE_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
    settings.AI_TIMEOUT_SECONDS = 1
    assert_unread(read())


def test_without_a_provider_nothing_is_asked(fake_ai, settings):
    settings.AI_API_KEY = ""
    assert_unread(read())
    assert fake_ai.requests == []


def test_auto_replies_never_reach_the_provider(fake_ai):
    reading = read("I am out of the office until 16 March.", headers={"Auto-Submitted": "auto-replied"})
    assert (reading.classification, reading.source, reading.return_date) == (
        "auto_reply",
        "rules",
        datetime.date(2026, 3, 16),
    )
    assert fake_ai.requests == []

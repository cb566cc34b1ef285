"""The rules alone over the labelled corpus (SPEC "Replies that act", issue #18's thresholds)."""

import pytest

from outreach_queue.reading import read_reply
from tests.outreach_queue.reading.confusion import confusion_table
from tests.outreach_queue.reading.corpus import CORPUS, ZONE
from tests.outreach_queue.reading.report_plugin import TABLE_PROPERTY


@pytest.fixture
def rules_only(settings):
    settings.AI_API_KEY = ""  # no provider: what is not an auto-reply reads as `other`


def _read_all():
    results = []
    for message in CORPUS:
        reading = read_reply(
            subject=message.subject,
            text=message.text,
            html=message.html,
            headers=message.headers,
            received_at=message.received_at,
            time_zone=ZONE,
        )
        predicted = "auto" if reading.classification == "auto_reply" else "person"
        results.append((message, predicted, reading.return_date))
    return results


def test_corpus_is_large_and_unique():
    ids = [m.id for m in CORPUS]
    assert len(ids) >= 80
    assert len(set(ids)) == len(ids)
    assert {m.kind for m in CORPUS} == {"auto", "person"}


def test_rules_alone_meet_the_thresholds(rules_only, record_property):
    results = _read_all()
    table = confusion_table(results)
    record_property(TABLE_PROPERTY, table)

    autos = [(m, p) for m, p, _ in results if m.kind == "auto"]
    found = sum(1 for _, p in autos if p == "auto")
    people_taken = [m.id for m, p, _ in results if m.kind == "person" and p == "auto"]
    dated = [(m, day) for m, p, day in results if m.kind == "auto" and m.states_date]
    dates_right = sum(1 for m, day in dated if day == m.return_date)

    assert found >= 0.95 * len(autos), table
    assert dates_right >= 0.90 * len(dated), table
    assert people_taken == [], table


def test_no_return_date_is_before_the_day_of_receipt(rules_only):
    for message, _, day in _read_all():
        assert day is None or day >= message.received_at.date(), message.id

"""A sequence's collections-calendar settings through the API: defaults, validation, the anchor lock."""

import pytest

from sequences.models import Sequence
from tests.conftest import company_url
from tests.factories.enrollments import EnrollmentFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def seq_url(company, sequence=None):
    return company_url(company, "sequences" + (f"/{sequence.id}" if sequence else ""))


def test_calendar_settings_round_trip(api, company):
    body = {
        "name": "Due-date chase",
        "anchor": "invoice_due",
        "catch_up": "latest",
        "send_days": ["fri", "mon", "wed", "mon"],
        "send_window_start": "09:00",
        "send_window_end": "17:30",
        "skip_holidays": True,
        "time_zone_source": "customer",
    }
    response = api.post(seq_url(company), body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    # Repeats count once and the days come back in week order.
    assert created["send_days"] == ["mon", "wed", "fri"]
    assert (created["send_window_start"], created["send_window_end"]) == ("09:00", "17:30")
    assert (created["anchor"], created["catch_up"], created["time_zone_source"]) == (
        "invoice_due",
        "latest",
        "customer",
    )
    assert created["skip_holidays"] is True
    stored = Sequence.objects.get(pk=created["id"])
    assert stored.send_days == ["mon", "wed", "fri"]

    sequence = Sequence.objects.get(pk=created["id"])
    patched = api.patch(
        seq_url(company, sequence), {"send_window_start": None, "send_window_end": None}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["send_window_start"] is None and patched.json()["send_window_end"] is None


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"send_days": []}, "send_days", "at least one send day"),
        ({"send_days": ["monday"]}, "send_days", "'monday' is not a weekday"),
        ({"send_days": "mon"}, "send_days", ""),
        ({"send_window_start": "09:00"}, "send_window_end", "both ends"),
        ({"send_window_end": "17:00"}, "send_window_start", "both ends"),
        (
            {"send_window_start": "17:00", "send_window_end": "09:00"},
            "send_window_end",
            "end after it starts",
        ),
        (
            {"send_window_start": "09:00", "send_window_end": "09:00"},
            "send_window_end",
            "end after it starts",
        ),
        ({"send_window_start": "9:00", "send_window_end": "17:00"}, "send_window_start", "HH:MM"),
        ({"send_window_start": "09:00:30", "send_window_end": "17:00"}, "send_window_start", "HH:MM"),
        ({"anchor": "due"}, "anchor", ""),
        ({"catch_up": "none"}, "catch_up", ""),
        ({"time_zone_source": "company"}, "time_zone_source", ""),
        ({"skip_holidays": "sometimes"}, "skip_holidays", ""),
    ],
)
def test_bad_calendar_settings_are_400_naming_the_field(api, company, body, field, fragment):
    response = api.post(seq_url(company), {"name": "Bad", **body}, format="json")
    assert response.status_code == 400, response.json()
    errors = response.json()
    assert field in errors, errors
    assert fragment in " ".join(errors[field])
    assert not Sequence.objects.filter(company=company, name="Bad").exists()


def test_a_patch_of_one_window_end_is_checked_against_the_stored_other(api, company):
    sequence = SequenceFactory(company=company, send_window_start="09:00", send_window_end="17:00")
    too_early = api.patch(seq_url(company, sequence), {"send_window_end": "08:00"}, format="json")
    assert too_early.status_code == 400 and "send_window_end" in too_early.json()
    fine = api.patch(seq_url(company, sequence), {"send_window_end": "12:00"}, format="json")
    assert fine.status_code == 200 and fine.json()["send_window_end"] == "12:00"
    sequence.refresh_from_db()
    assert str(sequence.send_window_end) == "12:00:00"


def test_the_anchor_cannot_change_once_the_sequence_has_enrollments(api, company):
    sequence = SequenceFactory(company=company, status="active")
    free = api.patch(seq_url(company, sequence), {"anchor": "invoice_due"}, format="json")
    assert free.status_code == 200 and free.json()["anchor"] == "invoice_due"

    EnrollmentFactory(sequence=sequence, status="completed", completed_at="2026-11-30T00:00:00Z")
    locked = api.patch(seq_url(company, sequence), {"anchor": "enrollment"}, format="json")
    assert locked.status_code == 409 and locked.json()["code"] == "sequence_has_enrollments"
    sequence.refresh_from_db()
    assert sequence.anchor == "invoice_due"
    # Sending the current anchor is not a change; other calendar settings still change.
    same = api.patch(
        seq_url(company, sequence), {"anchor": "invoice_due", "catch_up": "latest"}, format="json"
    )
    assert same.status_code == 200 and same.json()["catch_up"] == "latest"


def test_negative_offsets_belong_to_invoice_due_sequences_only(api, company):
    plain = SequenceFactory(company=company)
    steps_url = seq_url(company, plain) + "/steps"
    refused = api.post(steps_url, {"offset_days": -3}, format="json")
    assert refused.status_code == 400 and "invoice_due" in refused.json()["offset_days"][0]

    due = SequenceFactory(company=company, anchor="invoice_due")
    due_steps = seq_url(company, due) + "/steps"
    before = api.post(due_steps, {"offset_days": -3, "label": "3 days before"}, format="json")
    assert before.status_code == 201 and before.json()["offset_days"] == -3
    assert api.post(due_steps, {"offset_days": -365}, format="json").status_code == 201
    too_far = api.post(due_steps, {"offset_days": -366}, format="json")
    assert too_far.status_code == 400 and "offset_days" in too_far.json()
    # Steps list in offset order, the before-due step first.
    listed = api.get(due_steps).json()["data"]
    assert [step["offset_days"] for step in listed] == [-365, -3]

    # With a step before the due date, the anchor cannot go back to enrollment.
    back = api.patch(seq_url(company, due), {"anchor": "enrollment"}, format="json")
    assert back.status_code == 400 and "anchor" in back.json()


def test_a_step_patch_to_a_negative_offset_is_checked_against_the_anchor(api, company):
    sequence = SequenceFactory(company=company)
    step = SequenceStepFactory(sequence=sequence, offset_days=2)
    url = seq_url(company, sequence) + f"/steps/{step.id}"
    response = api.patch(url, {"offset_days": -1}, format="json")
    assert response.status_code == 400 and "offset_days" in response.json()
    step.refresh_from_db()
    assert step.offset_days == 2


def test_duplicate_copies_the_calendar(api, company):
    source = SequenceFactory(
        company=company,
        anchor="invoice_due",
        catch_up="latest",
        send_days=["tue", "thu"],
        send_window_start="08:00",
        send_window_end="12:00",
        skip_holidays=True,
        time_zone_source="customer",
    )
    response = api.post(seq_url(company), {"name": "Copy", "duplicate_from": str(source.id)}, format="json")
    assert response.status_code == 201, response.json()
    copy = response.json()
    assert copy["send_days"] == ["tue", "thu"] and copy["anchor"] == "invoice_due"
    assert (copy["send_window_start"], copy["send_window_end"], copy["skip_holidays"]) == (
        "08:00",
        "12:00",
        True,
    )
    assert copy["catch_up"] == "latest" and copy["time_zone_source"] == "customer"


def test_the_database_refuses_what_the_api_refuses(company):
    from django.db import IntegrityError, transaction

    for fields in (
        {"send_days": []},
        {"send_days": ["mon", "xyz"]},
        {"send_window_start": "10:00", "send_window_end": None},
        {"send_window_start": "10:00", "send_window_end": "10:00"},
        {"anchor": "later"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            SequenceFactory(company=company, **fields)
    assert SequenceFactory(company=company).send_days == WEEK

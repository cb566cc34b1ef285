"""Sequence endpoints: list, create (and duplicate), detail, PATCH, lifecycle actions, overview."""

import uuid

import pytest
from django.db import connection, transaction
from django.urls import Resolver404, resolve

from sequences.models import Sequence, SequenceStep
from sequences.signals import sequence_archived
from tests.conftest import company_url
from tests.factories.connections import EmailConnectionFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db


def seq_url(company, sequence=None, suffix=""):
    path = "sequences" if sequence is None else f"sequences/{sequence.id}{suffix}"
    return company_url(company, path)


# --- auth and tenancy ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/overview", "/steps"])
def test_no_token_is_401(anon, company, suffix):
    sequence = SequenceFactory(company=company)
    assert anon.get(seq_url(company, sequence, suffix)).status_code == 401
    assert anon.get(seq_url(company)).status_code == 401
    assert anon.post(seq_url(company), {"name": "x"}, format="json").status_code == 401


def test_non_member_gets_404(outsider_api, company):
    sequence = SequenceFactory(company=company)
    assert outsider_api.get(seq_url(company)).status_code == 404
    assert outsider_api.get(seq_url(company, sequence)).status_code == 404
    assert outsider_api.post(seq_url(company), {"name": "x"}, format="json").status_code == 404
    assert (
        outsider_api.post(seq_url(company, sequence), {"action": "archive"}, format="json").status_code == 404
    )
    assert Sequence.objects.get(pk=sequence.pk).status == "draft"


def test_sequence_of_other_company_is_404(api, company, other_company):
    foreign = SequenceFactory(company=other_company)
    for suffix in ("", "/overview", "/steps"):
        assert api.get(seq_url(company, foreign, suffix)).status_code == 404
    assert api.patch(seq_url(company, foreign), {"name": "mine"}, format="json").status_code == 404
    assert api.post(seq_url(company, foreign), {"action": "archive"}, format="json").status_code == 404


def test_non_uuid_ids_are_404_and_queue_is_not_a_sequence(api, company):
    assert api.get(company_url(company, "sequences/not-a-uuid")).status_code == 404
    try:
        match = resolve(f"/api/companies/{company.id}/sequences/queue")
    except Resolver404:
        match = None
    assert match is None or "sequence_id" not in match.kwargs


# --- list ---------------------------------------------------------------------------------------


def test_list_newest_first_with_filters_and_pagination(api, company, other_company):
    a = SequenceFactory(company=company, name="Net-30 Friendly", status="draft")
    b = SequenceFactory(company=company, name="Net-60 firm", status="active")
    c = SequenceFactory(company=company, name="Old NET", status="archived")
    SequenceFactory(company=other_company, name="Net foreign")

    body = api.get(seq_url(company)).json()
    assert body["count"] == 3 and body["page"] == 1 and body["page_size"] == 20
    assert [s["id"] for s in body["data"]] == [str(c.id), str(b.id), str(a.id)]

    body = api.get(seq_url(company), {"status": "active,draft"}).json()
    assert {s["id"] for s in body["data"]} == {str(a.id), str(b.id)}

    body = api.get(seq_url(company), {"search": "net-"}).json()
    assert {s["id"] for s in body["data"]} == {str(a.id), str(b.id)}

    body = api.get(seq_url(company), {"page_size": 2, "page": 2}).json()
    assert body["count"] == 3 and [s["id"] for s in body["data"]] == [str(a.id)]
    assert api.get(seq_url(company), {"page": 9}).json()["data"] == []


def test_list_bad_filters_are_400(api, company):
    response = api.get(seq_url(company), {"status": "active,paused"})
    assert response.status_code == 400 and "status" in response.json()
    assert api.get(seq_url(company), {"page_size": 0}).status_code == 400


def test_list_query_count_is_fixed(api, company, django_assert_max_num_queries):
    for _ in range(5):
        SequenceFactory(company=company)
    with django_assert_max_num_queries(5):
        assert api.get(seq_url(company)).status_code == 200


# --- create -------------------------------------------------------------------------------------


def test_create_defaults(api, company):
    response = api.post(seq_url(company), {"name": "Net-60 Reminder Sequence"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["timezone"] == "America/New_York"
    assert body["company_id"] == str(company.id) and body["sender_connection_id"] is None
    assert (
        body["auto_send"] is False
        and body["send_followups_in_thread"] is False
        and body["stop_on_reply"] is True
    )
    assert body["created_at"].endswith("Z")
    assert set(body) == {
        "id",
        "company_id",
        "name",
        "status",
        "timezone",
        "send_followups_in_thread",
        "sender_connection_id",
        "sender_connection_status",
        "auto_send",
        "auto_send_generated",
        "stop_on_reply",
        "anchor",
        "catch_up",
        "send_days",
        "send_window_start",
        "send_window_end",
        "skip_holidays",
        "time_zone_source",
        "created_at",
        "updated_at",
    }
    assert (body["anchor"], body["catch_up"], body["time_zone_source"]) == ("enrollment", "all", "sequence")
    assert body["send_days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert body["send_window_start"] is None and body["send_window_end"] is None
    assert body["skip_holidays"] is False


def test_create_with_settings(api, company):
    conn = EmailConnectionFactory(company=company)
    response = api.post(
        seq_url(company),
        {
            "name": "Chicago",
            "timezone": "America/Chicago",
            "auto_send": True,
            "send_followups_in_thread": True,
            "sender_connection_id": str(conn.id),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["timezone"] == "America/Chicago" and body["auto_send"] is True
    assert body["sender_connection_id"] == str(conn.id) and body["send_followups_in_thread"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "A", "timezone": "EST+5"}, "timezone"),
        ({"name": "A", "auto_send": "maybe"}, "auto_send"),
        ({"name": "A", "sender_connection_id": "nope"}, "sender_connection_id"),
        ({"name": "A", "duplicate_from": str(uuid.uuid4())}, "duplicate_from"),
    ],
)
def test_create_bad_input_is_400(api, company, payload, field):
    response = api.post(seq_url(company), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("name", ["Net-30", "NET-30", "net-30"])
def test_duplicate_name_in_any_case_is_409(api, company, name):
    SequenceFactory(company=company, name="Net-30")
    response = api.post(seq_url(company), {"name": name}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_name"


def test_same_name_in_another_company_is_fine(api, company, other_company):
    SequenceFactory(company=other_company, name="Net-30")
    assert api.post(seq_url(company), {"name": "Net-30"}, format="json").status_code == 201


def test_sender_of_other_company_does_not_exist(api, company, other_company):
    foreign = EmailConnectionFactory(company=other_company)
    response = api.post(
        seq_url(company), {"name": "A", "sender_connection_id": str(foreign.id)}, format="json"
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["sender_connection_id"][0]


@pytest.mark.parametrize("status", ["revoked", "error"])
def test_inactive_sender_is_400(api, company, status):
    conn = EmailConnectionFactory(company=company, status=status)
    response = api.post(seq_url(company), {"name": "A", "sender_connection_id": str(conn.id)}, format="json")
    assert response.status_code == 400
    assert "not active" in response.json()["sender_connection_id"][0]


def test_duplicate_from_copies_steps_and_settings(api, company):
    conn = EmailConnectionFactory(company=company)
    source = SequenceFactory(
        company=company,
        timezone="Europe/Berlin",
        auto_send=True,
        sender_connection=conn,
        send_followups_in_thread=True,
        stop_on_reply=False,
        status="active",
    )
    first = SequenceStepFactory(sequence=source, offset_days=0, label="Day 0")
    second = SequenceStepFactory(
        sequence=source,
        offset_days=7,
        label="Day 7",
        step_type="call",
        is_active=False,
        instructions="Call them",
    )
    response = api.post(
        seq_url(company),
        {"name": "Copy", "duplicate_from": str(source.id), "timezone": "America/Denver"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["timezone"] == "America/Denver"  # given wins
    assert body["auto_send"] is True and body["sender_connection_id"] == str(conn.id)
    assert body["send_followups_in_thread"] is True and body["stop_on_reply"] is False
    copies = list(SequenceStep.objects.filter(sequence_id=body["id"]).order_by("offset_days"))
    assert [s.label for s in copies] == ["Day 0", "Day 7"]
    assert {s.id for s in copies}.isdisjoint({first.id, second.id})
    assert (
        copies[1].step_type == "call"
        and copies[1].is_active is False
        and copies[1].instructions == "Call them"
    )
    assert copies[0].subject_template == first.subject_template
    assert source.steps.count() == 2


def test_duplicate_from_drops_inactive_sender(api, company):
    conn = EmailConnectionFactory(company=company, status="revoked")
    source = SequenceFactory(company=company, sender_connection=conn)
    body = api.post(
        seq_url(company), {"name": "Copy", "duplicate_from": str(source.id)}, format="json"
    ).json()
    assert body["sender_connection_id"] is None


def test_duplicate_from_other_company_does_not_exist(api, company, other_company):
    foreign = SequenceFactory(company=other_company)
    SequenceStepFactory(sequence=foreign)
    response = api.post(seq_url(company), {"name": "Copy", "duplicate_from": str(foreign.id)}, format="json")
    assert response.status_code == 400 and "duplicate_from" in response.json()
    assert not Sequence.objects.filter(company=company).exists()


def test_duplicate_with_clashing_name_is_409_and_copies_nothing(api, company):
    source = SequenceFactory(company=company, name="Source")
    SequenceStepFactory(sequence=source)
    response = api.post(seq_url(company), {"name": "SOURCE", "duplicate_from": str(source.id)}, format="json")
    assert response.status_code == 409
    assert SequenceStep.objects.count() == 1


# --- detail and PATCH ---------------------------------------------------------------------------


def test_detail(api, company):
    sequence = SequenceFactory(company=company)
    body = api.get(seq_url(company, sequence)).json()
    assert body["id"] == str(sequence.id) and body["name"] == sequence.name


def test_patch_settings(api, company):
    sequence = SequenceFactory(company=company)
    conn = EmailConnectionFactory(company=company)
    response = api.patch(
        seq_url(company, sequence),
        {
            "name": "Renamed",
            "timezone": "Asia/Tokyo",
            "sender_connection_id": str(conn.id),
            "auto_send": True,
            "stop_on_reply": False,
            "status": "active",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "Renamed" and body["timezone"] == "Asia/Tokyo" and body["auto_send"] is True
    assert body["sender_connection_id"] == str(conn.id) and body["stop_on_reply"] is False
    assert body["status"] == "draft"  # status moves only through actions


@pytest.mark.parametrize("cleared", [None, ""])
def test_patch_clears_sender(api, company, cleared):
    sequence = SequenceFactory(company=company, sender_connection=EmailConnectionFactory(company=company))
    response = api.patch(seq_url(company, sequence), {"sender_connection_id": cleared}, format="json")
    assert response.status_code == 200
    assert response.json()["sender_connection_id"] is None


def test_patch_name_clash_any_case_is_409(api, company):
    SequenceFactory(company=company, name="Taken")
    sequence = SequenceFactory(company=company, name="Mine")
    response = api.patch(seq_url(company, sequence), {"name": "TAKEN"}, format="json")
    assert response.status_code == 409
    assert Sequence.objects.get(pk=sequence.pk).name == "Mine"
    # Renaming to itself in another case is not a clash.
    assert api.patch(seq_url(company, sequence), {"name": "MINE"}, format="json").status_code == 200


def test_patch_bad_input_is_400(api, company, other_company):
    sequence = SequenceFactory(company=company)
    assert api.patch(seq_url(company, sequence), {"timezone": "Nowhere"}, format="json").status_code == 400
    assert api.patch(seq_url(company, sequence), {"name": ""}, format="json").status_code == 400
    foreign = EmailConnectionFactory(company=other_company)
    response = api.patch(seq_url(company, sequence), {"sender_connection_id": str(foreign.id)}, format="json")
    assert response.status_code == 400
    revoked = EmailConnectionFactory(company=company, status="revoked")
    response = api.patch(seq_url(company, sequence), {"sender_connection_id": str(revoked.id)}, format="json")
    assert response.status_code == 400 and "not active" in response.json()["sender_connection_id"][0]


# --- lifecycle ----------------------------------------------------------------------------------


def act(api, company, sequence, action):
    return api.post(seq_url(company, sequence), {"action": action}, format="json")


def test_activate_needs_an_active_step(api, company):
    sequence = SequenceFactory(company=company)
    assert act(api, company, sequence, "activate").status_code == 409
    SequenceStepFactory(sequence=sequence, is_active=False)
    response = act(api, company, sequence, "activate")
    assert response.status_code == 409 and response.json()["code"] == "no_active_step"
    SequenceStepFactory(sequence=sequence, is_active=True)
    response = act(api, company, sequence, "activate")
    assert response.status_code == 200 and response.json()["status"] == "active"


def test_repeating_the_current_state_is_200_unchanged(api, company):
    sequence = SequenceFactory(company=company, status="active")
    before = Sequence.objects.get(pk=sequence.pk).updated_at
    response = act(api, company, sequence, "activate")
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert Sequence.objects.get(pk=sequence.pk).updated_at == before
    archived = SequenceFactory(company=company, status="archived")
    assert act(api, company, archived, "archive").json()["status"] == "archived"


def test_archive_and_reactivate(api, company):
    sequence = SequenceFactory(company=company, status="draft")
    SequenceStepFactory(sequence=sequence)
    assert act(api, company, sequence, "archive").json()["status"] == "archived"
    assert act(api, company, sequence, "activate").json()["status"] == "active"
    assert act(api, company, sequence, "archive").json()["status"] == "archived"


def test_archive_sends_signal_inside_the_transaction(api, company):
    sequence = SequenceFactory(company=company, status="active")
    seen = []

    def receiver(sender, sequence, **kwargs):
        seen.append((sequence.pk, sequence.status, connection.in_atomic_block))

    sequence_archived.connect(receiver, dispatch_uid="test-archive")
    try:
        assert act(api, company, sequence, "archive").status_code == 200
        assert act(api, company, sequence, "archive").status_code == 200  # no second signal
    finally:
        sequence_archived.disconnect(dispatch_uid="test-archive")
    assert seen == [(sequence.pk, "archived", True)]


def test_archive_rolls_back_when_a_receiver_fails(api, company):
    sequence = SequenceFactory(company=company, status="active")

    def failing(sender, sequence, **kwargs):
        raise RuntimeError("enrollments could not be completed")

    sequence_archived.connect(failing, dispatch_uid="test-fail")
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            from sequences.services import sequence_apply_action

            sequence_apply_action(sequence=sequence, action="archive")
    finally:
        sequence_archived.disconnect(dispatch_uid="test-fail")
    assert Sequence.objects.get(pk=sequence.pk).status == "active"


@pytest.mark.parametrize("payload", [{"action": "pause"}, {"action": ""}, {}, {"action": 3}])
def test_unknown_action_is_400(api, company, payload):
    sequence = SequenceFactory(company=company)
    response = api.post(seq_url(company, sequence), payload, format="json")
    assert response.status_code == 400 and "action" in response.json()


# --- overview -----------------------------------------------------------------------------------


def test_overview(api, company, other_company):
    sequence = SequenceFactory(company=company)
    late = SequenceStepFactory(sequence=sequence, offset_days=7, label="late")
    early = SequenceStepFactory(sequence=sequence, offset_days=0, label="early")
    active = EmailConnectionFactory(company=company, allow_shared_sending=True)
    EmailConnectionFactory(company=company, status="revoked")
    EmailConnectionFactory(company=other_company)
    response = api.get(seq_url(company, sequence, "/overview"))
    assert response.status_code == 200
    body = response.json()
    assert body["sequence"]["id"] == str(sequence.id)
    assert [s["id"] for s in body["steps"]] == [str(early.id), str(late.id)]
    assert body["steps"][0]["has_history"] is False
    assert body["active_enrollment_count"] == 0
    assert body["email_connections"] == [
        {
            "id": str(active.id),
            "email": active.email,
            "provider": "google",
            "status": "active",
            "member_id": None,
            "allow_shared_sending": True,
        }
    ]
    assert "grant" not in response.content.decode()


def test_schema_describes_sequence_bodies(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/companies/{company_id}/sequences/{sequence_id}/overview" in schema
    assert "SequenceActionRequest" in schema and "StepRequest" in schema


def test_a_revoked_sender_shows_on_the_sequence(api, company):
    conn = EmailConnectionFactory(company=company)
    sequence = SequenceFactory(company=company, sender_connection=conn)
    url = seq_url(company, sequence)
    assert api.get(url).json()["sender_connection_status"] == "active"
    conn.status = "revoked"
    conn.save()
    assert api.get(url).json()["sender_connection_status"] == "revoked"
    listed = api.get(seq_url(company)).json()["data"]
    assert [s["sender_connection_status"] for s in listed] == ["revoked"]
    bare = SequenceFactory(company=company)
    assert api.get(seq_url(company, bare)).json()["sender_connection_status"] is None

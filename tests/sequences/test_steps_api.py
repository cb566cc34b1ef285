"""Step endpoints: list, create, GET, PUT, PATCH, DELETE, template validation and the history rule."""

import datetime

import pytest

from enrollments.models import Enrollment
from sequences.models import SequenceStep
from tests.conftest import company_url
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sequence(company):
    return SequenceFactory(company=company)


def steps_url(company, sequence, step=None):
    path = f"sequences/{sequence.id}/steps" + (f"/{step.id}" if step is not None else "")
    return company_url(company, path)


def with_history(step):
    """Give `step` history the way production does: an enrollment was scheduled with it."""
    ScheduledStepFactory(
        step=step,
        enrollment=EnrollmentFactory(sequence=step.sequence, company=step.sequence.company),
    )
    return step


# --- auth and tenancy ---------------------------------------------------------------------------


def test_no_token_is_401(anon, company, sequence):
    step = SequenceStepFactory(sequence=sequence)
    assert anon.get(steps_url(company, sequence)).status_code == 401
    assert anon.post(steps_url(company, sequence), {}, format="json").status_code == 401
    assert anon.get(steps_url(company, sequence, step)).status_code == 401
    assert anon.delete(steps_url(company, sequence, step)).status_code == 401


def test_non_member_gets_404(outsider_api, company, sequence):
    step = SequenceStepFactory(sequence=sequence)
    assert outsider_api.get(steps_url(company, sequence)).status_code == 404
    assert outsider_api.post(steps_url(company, sequence), {}, format="json").status_code == 404
    assert (
        outsider_api.patch(steps_url(company, sequence, step), {"label": "x"}, format="json").status_code
        == 404
    )
    assert outsider_api.delete(steps_url(company, sequence, step)).status_code == 404
    assert SequenceStep.objects.filter(pk=step.pk).exists()


def test_step_of_another_sequence_or_company_is_404(api, company, sequence, other_company):
    other_sequence = SequenceFactory(company=company)
    step = SequenceStepFactory(sequence=other_sequence)
    assert api.get(steps_url(company, sequence, step)).status_code == 404
    foreign_sequence = SequenceFactory(company=other_company)
    foreign_step = SequenceStepFactory(sequence=foreign_sequence)
    assert api.get(steps_url(company, foreign_sequence, foreign_step)).status_code == 404
    assert api.post(steps_url(company, foreign_sequence), {}, format="json").status_code == 404
    assert api.delete(steps_url(company, foreign_sequence, foreign_step)).status_code == 404
    assert company_url(company, f"sequences/{sequence.id}/steps/nope")
    assert api.get(company_url(company, f"sequences/{sequence.id}/steps/nope")).status_code == 404


# --- create and list ----------------------------------------------------------------------------


def test_create_with_defaults(api, company, sequence):
    response = api.post(steps_url(company, sequence), {}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["step_type"] == "reminder" and body["label"] == "New Step"
    assert body["offset_days"] == 0 and body["offset_time"] == "09:00" and body["is_active"] is True
    assert body["has_history"] is False and body["sequence_id"] == str(sequence.id)
    assert set(body) == {
        "id",
        "sequence_id",
        "step_type",
        "label",
        "offset_days",
        "offset_time",
        "is_active",
        "subject_template",
        "body_plain_template",
        "body_html_template",
        "instructions",
        "variants",
        "holdout_percent",
        "has_history",
        "created_at",
        "updated_at",
    }


def test_create_full(api, company, sequence):
    payload = {
        "step_type": "reminder",
        "label": "Day 7 Follow-up",
        "offset_days": 7,
        "offset_time": "23:59",
        "subject_template": "Following up on invoice {{invoice.number}}",
        "body_plain_template": "Hi {{ customer.name }}, {{ total_due }} is open.",
        "body_html_template": "<p>{% for i in invoices %}{{ i.number }} {% endfor %}</p>",
        "instructions": "Be kind",
    }
    response = api.post(steps_url(company, sequence), payload, format="json")
    assert response.status_code == 201, response.json()
    step = SequenceStep.objects.get(pk=response.json()["id"])
    assert step.offset_time == datetime.time(23, 59) and step.offset_days == 7
    assert step.subject_template == payload["subject_template"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"offset_time": "25:00"}, "offset_time"),
        ({"offset_time": "9:00"}, "offset_time"),
        ({"offset_time": "09:00:30"}, "offset_time"),
        ({"offset_time": "09:00\n"}, "offset_time"),
        ({"offset_time": "09:60"}, "offset_time"),
        ({"offset_time": 900}, "offset_time"),
        ({"offset_days": -1}, "offset_days"),
        ({"offset_days": 3651}, "offset_days"),
        ({"offset_days": "soon"}, "offset_days"),
        ({"step_type": "sms"}, "step_type"),
        ({"label": ""}, "label"),
        ({"is_active": "perhaps"}, "is_active"),
        ({"subject_template": "{{ invoice.number "}, "subject_template"),
        ({"subject_template": "{% if %}"}, "subject_template"),
        ({"body_plain_template": "{{ invoce }}"}, "body_plain_template"),
        ({"body_html_template": "{{ invoice.numbr }}"}, "body_html_template"),
        ({"body_html_template": "{{ customer.__class__ }}"}, "body_html_template"),
        ({"body_plain_template": "{{ ''.__class__.__mro__ }}"}, "body_plain_template"),
        ({"subject_template": "{% include '/etc/passwd' %}"}, "subject_template"),
    ],
)
def test_create_bad_input_is_400(api, company, sequence, payload, field):
    response = api.post(steps_url(company, sequence), payload, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()) == [field]
    assert not SequenceStep.objects.exists()


def test_unknown_variable_message_names_the_variable(api, company, sequence):
    response = api.post(
        steps_url(company, sequence), {"subject_template": "Hi {{ invoce.number }}"}, format="json"
    )
    assert response.json() == {"subject_template": ["unknown variable 'invoce'"]}
    response = api.post(
        steps_url(company, sequence), {"subject_template": "{{ invoice.numbr }}"}, format="json"
    )
    assert response.json() == {"subject_template": ["unknown variable 'invoice.numbr'"]}


def test_boundaries_accepted(api, company, sequence):
    for payload in (
        {"offset_days": 0, "offset_time": "00:00"},
        {"offset_days": 3650, "offset_time": "23:59"},
    ):
        assert api.post(steps_url(company, sequence), payload, format="json").status_code == 201


def test_list_orders_by_schedule_then_creation(api, company, sequence):
    third = SequenceStepFactory(sequence=sequence, offset_days=3, offset_time=datetime.time(8, 0))
    first = SequenceStepFactory(sequence=sequence, offset_days=0, offset_time=datetime.time(10, 0))
    second_a = SequenceStepFactory(sequence=sequence, offset_days=1, offset_time=datetime.time(9, 0))
    second_b = SequenceStepFactory(sequence=sequence, offset_days=1, offset_time=datetime.time(9, 0))
    zero = SequenceStepFactory(sequence=sequence, offset_days=0, offset_time=datetime.time(7, 30))
    body = api.get(steps_url(company, sequence)).json()
    assert body["count"] == 5
    assert [s["id"] for s in body["data"]] == [str(s.id) for s in (zero, first, second_a, second_b, third)]
    assert body["data"][0]["offset_time"] == "07:30"


def test_list_has_history_with_one_history_query(api, company, sequence, django_assert_max_num_queries):
    steps = [SequenceStepFactory(sequence=sequence, offset_days=i) for i in range(6)]
    with_history(steps[1])
    with_history(steps[4])
    # token lookup + last_used stamp, membership, sequence, count, page, history: none per step
    with django_assert_max_num_queries(7):
        body = api.get(steps_url(company, sequence)).json()
    flags = {s["id"]: s["has_history"] for s in body["data"]}
    assert flags == {str(s.id): i in (1, 4) for i, s in enumerate(steps)}


# --- GET, PUT, PATCH ----------------------------------------------------------------------------


def test_get_step(api, company, sequence):
    step = SequenceStepFactory(sequence=sequence, offset_time=datetime.time(14, 5))
    body = api.get(steps_url(company, sequence, step)).json()
    assert body["id"] == str(step.id) and body["offset_time"] == "14:05" and body["has_history"] is False
    with_history(step)
    assert api.get(steps_url(company, sequence, step)).json()["has_history"] is True


@pytest.mark.parametrize("method", ["put", "patch"])
def test_put_and_patch_take_any_subset(api, company, sequence, method):
    step = SequenceStepFactory(sequence=sequence, label="Old", offset_days=2, subject_template="Keep me")
    response = getattr(api, method)(
        steps_url(company, sequence, step), {"offset_days": 5, "step_type": "call"}, format="json"
    )
    assert response.status_code == 200, response.json()
    step.refresh_from_db()
    assert step.offset_days == 5 and step.step_type == "call"
    assert step.label == "Old" and step.subject_template == "Keep me"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_bad_input_is_400(api, company, sequence, method):
    step = SequenceStepFactory(sequence=sequence)
    call = getattr(api, method)
    assert (
        call(steps_url(company, sequence, step), {"offset_time": "24:00"}, format="json").status_code == 400
    )
    response = call(
        steps_url(company, sequence, step), {"body_plain_template": "{{ custmer.name }}"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"body_plain_template": ["unknown variable 'custmer'"]}
    step.refresh_from_db()
    assert step.offset_time == datetime.time(9, 0)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_with_history_only_label_and_is_active_change(api, company, sequence, method):
    step = with_history(SequenceStepFactory(sequence=sequence, label="Old", offset_days=2))
    call = getattr(api, method)
    response = call(
        steps_url(company, sequence, step), {"label": "Renamed", "is_active": False}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["label"] == "Renamed" and response.json()["has_history"] is True

    for payload in (
        {"offset_days": 3},
        {"subject_template": "New {{ customer.name }}"},
        {"step_type": "task"},
        {"label": "Again", "offset_time": "10:00"},
    ):
        response = call(steps_url(company, sequence, step), payload, format="json")
        assert response.status_code == 409, payload
        assert response.json()["code"] == "step_has_history"
    step.refresh_from_db()
    assert step.label == "Renamed" and step.offset_days == 2 and step.is_active is False


def test_with_history_resending_unchanged_values_is_not_a_change(api, company, sequence):
    step = with_history(
        SequenceStepFactory(sequence=sequence, offset_days=2, offset_time=datetime.time(9, 0))
    )
    response = api.put(
        steps_url(company, sequence, step),
        {"offset_days": 2, "offset_time": "09:00", "label": "Same schedule"},
        format="json",
    )
    assert response.status_code == 200


# --- DELETE -------------------------------------------------------------------------------------


def test_delete_without_history(api, company, sequence):
    step = SequenceStepFactory(sequence=sequence)
    assert api.delete(steps_url(company, sequence, step)).status_code == 204
    assert not SequenceStep.objects.filter(pk=step.pk).exists()
    assert api.delete(steps_url(company, sequence, step)).status_code == 404


def test_delete_with_history_is_409(api, company, sequence):
    step = with_history(SequenceStepFactory(sequence=sequence))
    response = api.delete(steps_url(company, sequence, step))
    assert response.status_code == 409 and response.json()["code"] == "step_has_history"
    assert SequenceStep.objects.filter(pk=step.pk).exists()


# --- with enrollments ---------------------------------------------------------------------------


def test_overview_counts_active_enrollments_and_archive_completes_them(api, company):
    sequence = SequenceFactory(company=company, status="active")
    step = SequenceStepFactory(sequence=sequence)
    active = EnrollmentFactory(sequence=sequence, company=company)
    EnrollmentFactory(
        sequence=sequence,
        company=company,
        status="completed",
        completed_at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
    )
    ScheduledStepFactory(enrollment=active, step=step)
    overview = api.get(company_url(company, f"sequences/{sequence.id}/overview")).json()
    assert overview["active_enrollment_count"] == 1
    assert overview["steps"][0]["has_history"] is True

    response = api.post(
        company_url(company, f"sequences/{sequence.id}"), {"action": "archive"}, format="json"
    )
    assert response.status_code == 200
    active.refresh_from_db()
    assert active.status == Enrollment.Status.COMPLETED and active.stop_reason == "sequence_archived"
    overview = api.get(company_url(company, f"sequences/{sequence.id}/overview")).json()
    assert overview["active_enrollment_count"] == 0


def test_a_template_python_cannot_compile_is_400_not_500(api, company):
    sequence = SequenceFactory(company=company)
    body = {"body_plain_template": "{% if total_due %}" * 101 + "x" + "{% endif %}" * 101}
    response = api.post(f"/api/companies/{company.id}/sequences/{sequence.id}/steps", body, format="json")
    assert response.status_code == 400
    assert "body_plain_template" in response.json()

"""Admin for support staff: lists, search, read-only history steps, lifecycle actions via the service."""

import pytest

from sequences.models import Sequence
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db


def test_changelist_search_and_filter(admin_client):
    SequenceFactory(name="Findable net-30")
    SequenceFactory(name="Other", status="archived")
    response = admin_client.get("/admin/sequences/sequence/", {"q": "findable", "status__exact": "draft"})
    assert response.status_code == 200
    assert "Findable net-30" in response.content.decode() and "Other" not in response.content.decode()


def test_change_page_makes_history_steps_read_only(admin_client):
    sequence = SequenceFactory()
    free = SequenceStepFactory(sequence=sequence, label="free step")
    locked = SequenceStepFactory(sequence=sequence, label="locked step", offset_days=3)
    ScheduledStepFactory(
        step=locked, enrollment=EnrollmentFactory(sequence=sequence, company=sequence.company)
    )
    response = admin_client.get(f"/admin/sequences/sequence/{sequence.id}/change/")
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    forms = {form.instance.pk: form for form in formset.forms}
    assert forms[locked.pk].fields["offset_days"].disabled is True
    assert forms[locked.pk].fields["label"].disabled is False
    assert forms[free.pk].fields["offset_days"].disabled is False


def test_activate_action_uses_the_lifecycle_rules(admin_client):
    empty = SequenceFactory(name="No steps")
    ready = SequenceFactory(name="Has steps")
    SequenceStepFactory(sequence=ready)
    response = admin_client.post(
        "/admin/sequences/sequence/",
        {"action": "activate", "_selected_action": [str(empty.pk), str(ready.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert Sequence.objects.get(pk=ready.pk).status == "active"
    assert Sequence.objects.get(pk=empty.pk).status == "draft"
    assert "Add an active step" in response.content.decode()


def _add_form(company, **overrides):
    data = {
        "company": str(company.pk),
        "name": "Admin-made",
        "timezone": "Europe/Paris",
        "send_followups_in_thread": "",
        "auto_send": "",
        "stop_on_reply": "on",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-step_type": "reminder",
        "steps-0-label": "Day 0",
        "steps-0-offset_days": "0",
        "steps-0-offset_time": "09:00",
        "steps-0-is_active": "on",
        "steps-0-subject_template": "Invoice {{ invoice.number }}",
        "steps-0-body_plain_template": "Hi {{ customer.name }}",
        "steps-0-body_html_template": "",
        "steps-0-instructions": "",
    }
    data.update(overrides)
    return data


def test_adding_a_sequence_with_a_step_goes_through_the_services(admin_client):
    from tests.factories.core import CompanyFactory

    company = CompanyFactory()
    response = admin_client.post("/admin/sequences/sequence/add/", _add_form(company))
    assert response.status_code == 302, response.context and response.context["errors"]
    sequence = Sequence.objects.get(name="Admin-made")
    assert sequence.status == "draft" and sequence.timezone == "Europe/Paris"
    assert list(sequence.steps.values_list("label", flat=True)) == ["Day 0"]


def test_admin_refuses_a_sender_of_another_company_or_not_active(admin_client):
    from tests.factories.connections import EmailConnectionFactory
    from tests.factories.core import CompanyFactory

    company = CompanyFactory()
    foreign = EmailConnectionFactory()
    revoked = EmailConnectionFactory(company=company, status="revoked")
    for sender in (foreign, revoked):
        response = admin_client.post(
            "/admin/sequences/sequence/add/", _add_form(company, sender_connection=str(sender.pk))
        )
        assert (
            response.status_code == 200 and "sender_connection" in response.context["adminform"].form.errors
        )
    assert not Sequence.objects.filter(name="Admin-made").exists()


def test_admin_refuses_an_instructions_only_step_without_a_provider(admin_client, settings):
    from tests.factories.core import CompanyFactory

    settings.AI_API_KEY = ""
    company = CompanyFactory()
    data = _add_form(
        company,
        **{
            "steps-0-subject_template": "",
            "steps-0-body_plain_template": "",
            "steps-0-instructions": "Be kind.",
        },
    )
    response = admin_client.post("/admin/sequences/sequence/add/", data)
    assert response.status_code == 200
    assert not Sequence.objects.filter(name="Admin-made").exists()

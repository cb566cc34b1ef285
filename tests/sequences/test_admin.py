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
        "anchor": "enrollment",
        "catch_up": "all",
        "send_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "time_zone_source": "sequence",
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


def test_admin_refuses_a_sender_of_another_company_or_not_active_as_the_api_does(admin_client, api, company):
    """The form calls the service's check (sequences.services.check_sender): the same refusal and, for
    an inactive sender, the same words as the API's 400. The API never lets another company's id reach
    the service (its field only knows the company's connections: "object does not exist"); the admin's
    raw id box takes any, and the service refuses it as not existing."""
    from tests.conftest import company_url
    from tests.factories.connections import EmailConnectionFactory

    foreign = EmailConnectionFactory()
    revoked = EmailConnectionFactory(company=company, status="revoked")
    for sender in (foreign, revoked):
        refused = api.post(
            company_url(company, "sequences"),
            {"name": "Via the API", "sender_connection_id": str(sender.pk)},
            format="json",
        )
        assert refused.status_code == 400
        response = admin_client.post(
            "/admin/sequences/sequence/add/", _add_form(company, sender_connection=str(sender.pk))
        )
        assert response.status_code == 200
        [message] = response.context["adminform"].form.errors["sender_connection"]
        if sender is revoked:
            assert [message] == refused.json()["sender_connection_id"]
        else:
            assert message == "This email connection does not exist."
            assert "does not exist" in refused.json()["sender_connection_id"][0]
    assert not Sequence.objects.filter(name__in=["Admin-made", "Via the API"]).exists()


def test_admin_refuses_an_instructions_only_step_without_a_provider_as_the_api_does(
    admin_client, api, company, settings
):
    """The step form calls the service's check (sequences.services.check_generation): same words."""
    from tests.conftest import company_url

    settings.AI_API_KEY = ""
    sequence = SequenceFactory(company=company)
    refused = api.post(
        company_url(company, f"sequences/{sequence.pk}/steps"), {"instructions": "Be kind."}, format="json"
    )
    assert refused.status_code == 400
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
    [step_form] = response.context["inline_admin_formsets"][0].formset.forms
    assert step_form.errors["instructions"] == refused.json()["instructions"]
    assert not Sequence.objects.filter(name="Admin-made").exists()


def _form_errors(response) -> dict:
    errors = dict(response.context["adminform"].form.errors)
    for formset in response.context["inline_admin_formsets"]:
        for form in formset.formset.forms:
            errors.update({f"steps.{k}": v for k, v in form.errors.items()})
    return errors


def test_admin_sets_the_calendar_of_a_due_date_sequence(admin_client):
    from tests.factories.core import CompanyFactory

    company = CompanyFactory()
    data = _add_form(
        company,
        anchor="invoice_due",
        catch_up="latest",
        send_days=["fri", "mon", "tue"],
        send_window_start="09:00",
        send_window_end="17:30",
        skip_holidays="on",
        time_zone_source="customer",
        **{"steps-0-offset_days": "-3"},
    )
    response = admin_client.post("/admin/sequences/sequence/add/", data)
    assert response.status_code == 302, _form_errors(response)
    sequence = Sequence.objects.get(name="Admin-made")
    assert (sequence.anchor, sequence.catch_up, sequence.time_zone_source) == (
        "invoice_due",
        "latest",
        "customer",
    )
    assert sequence.send_days == ["mon", "tue", "fri"]  # week order, whatever order was ticked
    assert (str(sequence.send_window_start), str(sequence.send_window_end)) == ("09:00:00", "17:30:00")
    assert sequence.skip_holidays is True
    assert list(sequence.steps.values_list("offset_days", flat=True)) == [-3]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"steps-0-offset_days": "-3"}, "steps.offset_days"),
        ({"send_window_start": "09:00"}, "send_window_end"),
        ({"send_window_start": "18:00", "send_window_end": "09:00"}, "send_window_end"),
        ({"send_days": []}, "send_days"),
        ({"send_days": ["mon", "xyz"]}, "send_days"),
    ],
)
def test_admin_refuses_a_calendar_the_api_refuses(admin_client, overrides, field):
    from tests.factories.core import CompanyFactory

    response = admin_client.post("/admin/sequences/sequence/add/", _add_form(CompanyFactory(), **overrides))
    assert response.status_code == 200
    assert field in _form_errors(response)
    assert not Sequence.objects.filter(name="Admin-made").exists()


def test_admin_cannot_change_the_anchor_under_enrollments(admin_client):
    sequence = SequenceFactory(name="Enrolled")
    EnrollmentFactory(sequence=sequence, company=sequence.company)
    page = admin_client.get(f"/admin/sequences/sequence/{sequence.id}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "anchor": "invoice_due",
            "send_days": sequence.send_days,
            "steps-TOTAL_FORMS": "0",
            "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000",
        }
    )
    for flag in (
        "auto_send",
        "auto_send_generated",
        "stop_on_reply",
        "send_followups_in_thread",
        "skip_holidays",
    ):
        if data.get(flag) is False:
            data.pop(flag)
    response = admin_client.post(f"/admin/sequences/sequence/{sequence.id}/change/", data)
    assert response.status_code == 200
    assert "anchor cannot change" in str(_form_errors(response))
    sequence.refresh_from_db()
    assert sequence.anchor == "enrollment"


def test_sequences_cannot_be_deleted_from_admin(admin_client):
    sequence = SequenceFactory()
    assert admin_client.get(f"/admin/sequences/sequence/{sequence.id}/delete/").status_code == 403
    response = admin_client.post(
        "/admin/sequences/sequence/", {"action": "delete_selected", "_selected_action": [str(sequence.pk)]}
    )
    assert Sequence.objects.filter(pk=sequence.pk).exists() and response.status_code in (200, 302)

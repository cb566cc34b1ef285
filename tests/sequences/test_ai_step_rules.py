"""Step and sequence rules for AI drafts: instructions alone need a provider; auto-send is opt-in."""

import pytest

from tests.conftest import company_url
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db


def steps_url(company, sequence):
    return company_url(company, f"sequences/{sequence.id}/steps")


def test_instructions_alone_without_a_provider_is_400(api, company, settings):
    settings.AI_API_KEY = ""
    sequence = SequenceFactory(company=company)
    response = api.post(
        steps_url(company, sequence), {"instructions": "Be kind, mention the total."}, format="json"
    )
    assert response.status_code == 400
    assert "not configured" in response.json()["instructions"][0]
    assert not sequence.steps.exists()


def test_instructions_alone_with_a_provider_is_accepted(api, company, fake_ai):
    sequence = SequenceFactory(company=company)
    response = api.post(steps_url(company, sequence), {"instructions": "Be kind."}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["instructions"] == "Be kind."
    assert fake_ai.requests == []  # saving a step generates nothing


@pytest.mark.parametrize(
    "body",
    [
        {"instructions": "Shorter please.", "subject_template": "Invoice {{ invoice.number }}"},
        {"instructions": "Ask for a call back.", "step_type": "call"},
    ],
)
def test_instructions_with_templates_or_on_calls_need_no_provider(api, company, settings, body):
    settings.AI_API_KEY = ""
    sequence = SequenceFactory(company=company)
    assert api.post(steps_url(company, sequence), body, format="json").status_code == 201


def test_emptying_the_templates_of_an_instructed_step_is_400_without_a_provider(api, company, settings):
    settings.AI_API_KEY = ""
    step = SequenceStepFactory(sequence__company=company, instructions="Be brief.")
    url = f"{steps_url(company, step.sequence)}/{step.id}"
    response = api.patch(
        url, {"subject_template": "", "body_plain_template": "", "body_html_template": ""}, format="json"
    )
    assert response.status_code == 400 and "instructions" in response.json()
    step.refresh_from_db()
    assert step.subject_template


def test_auto_send_generated_is_off_by_default_settable_and_duplicated(api, company):
    created = api.post(company_url(company, "sequences"), {"name": "AI follow-ups"}, format="json").json()
    assert created["auto_send_generated"] is False
    url = company_url(company, f"sequences/{created['id']}")
    assert api.patch(url, {"auto_send_generated": True}, format="json").json()["auto_send_generated"] is True
    copy = api.post(
        company_url(company, "sequences"), {"name": "AI copy", "duplicate_from": created["id"]}, format="json"
    ).json()
    assert copy["auto_send_generated"] is True
    assert api.patch(url, {"auto_send_generated": "maybe"}, format="json").status_code == 400

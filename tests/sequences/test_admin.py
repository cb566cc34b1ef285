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

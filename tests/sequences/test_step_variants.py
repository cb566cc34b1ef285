"""Step variants and holdouts through the step API (SPEC Part 2, docs/variants.md): every validation
rule and its 400, reminders only, the history lock, duplicate_from, and the admin's use of the same
checks."""

import pytest

from sequences.models import SequenceStep
from tests.conftest import company_url
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db


def steps_url(company, sequence, step=None):
    return company_url(company, f"sequences/{sequence.id}/steps" + (f"/{step.id}" if step else ""))


def variant(key="a", weight=50, **templates):
    return {
        "key": key,
        "weight": weight,
        "subject_template": "Invoice {{ invoice.number }}",
        "body_plain_template": "Hello {{ customer.name }}",
        "body_html_template": "",
        **templates,
    }


TWO = [variant("a", 70), variant("b", 30, subject_template="Reminder: {{ invoice.number }} is due")]


@pytest.fixture
def sequence(company):
    return SequenceFactory(company=company)


def create(api, company, sequence, **body):
    return api.post(steps_url(company, sequence), {"label": "Day 0", **body}, format="json")


def test_create_with_variants_and_holdout_shows_them(api, company, sequence):
    response = create(api, company, sequence, variants=TWO, holdout_percent=10)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["holdout_percent"] == 10
    assert [v["key"] for v in body["variants"]] == ["a", "b"]
    assert body["variants"][1] == TWO[1]
    step = SequenceStep.objects.get(pk=body["id"])
    assert step.variants == TWO and step.holdout_percent == 10
    got = api.get(steps_url(company, sequence, step)).json()
    assert got["variants"] == TWO and got["holdout_percent"] == 10


def test_a_step_without_an_experiment_shows_empty_variants_and_no_holdout(api, company, sequence):
    body = create(api, company, sequence).json()
    assert body["variants"] == [] and body["holdout_percent"] == 0


def test_templates_left_out_of_a_variant_are_stored_empty_and_unknown_fields_dropped(api, company, sequence):
    sparse = [
        {"key": "a", "weight": 1, "subject_template": "S", "body_html_template": "<p>Hi</p>", "color": "red"},
        variant("b"),
    ]
    body = create(api, company, sequence, variants=sparse).json()
    assert body["variants"][0] == {
        "key": "a",
        "weight": 1,
        "subject_template": "S",
        "body_plain_template": "",
        "body_html_template": "<p>Hi</p>",
    }


def test_a_holdout_without_variants_is_allowed(api, company, sequence):
    response = create(api, company, sequence, holdout_percent=50)
    assert response.status_code == 201, response.json()
    assert response.json()["holdout_percent"] == 50 and response.json()["variants"] == []


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ([variant("a")], "Give 2 to 4 variants, or none (an empty list); got 1."),
        ([variant(str(n)) for n in range(5)], "Give 2 to 4 variants, or none (an empty list); got 5."),
        ({"key": "a"}, "Expected a list of 2 to 4 variants."),
        ("ab", "Expected a list of 2 to 4 variants."),
        ([variant("a"), "b"], "Item 1: Expected an object with key, weight and the three templates."),
        (
            [variant("a"), variant("a")],
            "Item 1: key: 'a' is already the key of another variant of this step.",
        ),
        (
            [variant("a"), variant("holdout")],
            "Item 1: key: 'holdout' names the held-out group; choose another key.",
        ),
        ([variant("a"), variant("B")], "Item 1: key: A short slug is required"),
        ([variant("a"), variant("-b")], "Item 1: key: A short slug is required"),
        ([variant("a"), variant("b" * 41)], "Item 1: key: A short slug is required"),
        ([variant("a"), variant(7)], "Item 1: key: A short slug is required"),
        ([variant(["a"]), variant("b")], "Item 0: key: A short slug is required"),  # unhashable
        ([variant("a"), variant({"k": 1})], "Item 1: key: A short slug is required"),
        ([variant("a", 0), variant("b")], "Item 0: weight: An integer from 1 to 100 is required."),
        ([variant("a", 101), variant("b")], "Item 0: weight: An integer from 1 to 100 is required."),
        ([variant("a", "5"), variant("b")], "Item 0: weight: An integer from 1 to 100 is required."),
        ([variant("a", True), variant("b")], "Item 0: weight: An integer from 1 to 100 is required."),
        ([variant("a", 2.5), variant("b")], "Item 0: weight: An integer from 1 to 100 is required."),
        ([variant("a"), variant("b", subject_template=5)], "Item 1: subject_template: Expected a string."),
        (
            [variant("a"), variant("b", subject_template="x" * 2_001)],
            "Item 1: subject_template: Ensure this field has no more than 2000 characters.",
        ),
        (
            [variant("a"), variant("b", subject_template="  ")],
            "Item 1: subject_template: A variant needs a subject.",
        ),
        (
            [variant("a"), variant("b", body_plain_template="", body_html_template=" ")],
            "Item 1: body_plain_template: A variant needs a body (plain text, HTML or both).",
        ),
    ],
)
def test_bad_variants_are_400_naming_the_item(api, company, sequence, variants, message):
    response = create(api, company, sequence, variants=variants)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["variants"]
    assert any(m.startswith(message) for m in body["variants"]), body
    assert not SequenceStep.objects.filter(sequence=sequence).exists()


def test_a_bad_variant_template_is_400_with_the_checkers_message(api, company, sequence):
    """The same checker as the step's own templates: compare the message with the step's."""
    bad = "Hi {{ customer.password }}"
    own = create(api, company, sequence, body_plain_template=bad).json()["body_plain_template"][0]
    response = create(api, company, sequence, variants=[variant("a"), variant("b", body_plain_template=bad)])
    assert response.status_code == 400
    assert response.json() == {"variants": [f"Item 1: body_plain_template: {own}"]}
    unparsable = create(
        api, company, sequence, variants=[variant("a", body_html_template="{% if %}"), variant("b")]
    )
    assert unparsable.status_code == 400
    assert unparsable.json()["variants"][0].startswith("Item 0: body_html_template: ")


def test_every_problem_is_listed(api, company, sequence):
    response = create(api, company, sequence, variants=[variant("a", 0), variant("A", subject_template="")])
    assert response.status_code == 400
    messages = response.json()["variants"]
    assert [m.split(":")[0] for m in messages] == ["Item 0", "Item 1", "Item 1"]


@pytest.mark.parametrize("holdout", [-1, 51, 100])
def test_holdout_out_of_range_is_400(api, company, sequence, holdout):
    response = create(api, company, sequence, holdout_percent=holdout)
    assert response.status_code == 400 and list(response.json()) == ["holdout_percent"]


def test_holdout_must_be_an_integer(api, company, sequence):
    response = create(api, company, sequence, holdout_percent="10")
    assert response.status_code == 400 and list(response.json()) == ["holdout_percent"]


@pytest.mark.parametrize("step_type", ["call", "task"])
def test_variants_or_holdout_on_a_call_or_task_are_400(api, company, sequence, step_type):
    response = create(api, company, sequence, step_type=step_type, variants=TWO)
    assert response.status_code == 400
    assert response.json() == {
        "variants": [f"Only a reminder step may have variants (this one is a {step_type})."]
    }
    response = create(api, company, sequence, step_type=step_type, holdout_percent=5)
    assert response.status_code == 400
    assert response.json() == {
        "holdout_percent": [f"Only a reminder step may have a holdout (this one is a {step_type})."]
    }
    assert not SequenceStep.objects.filter(sequence=sequence).exists()


def test_a_reminder_with_variants_cannot_become_a_call(api, company, sequence):
    step = SequenceStepFactory(sequence=sequence, variants=TWO)
    response = api.patch(steps_url(company, sequence, step), {"step_type": "call"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["variants"]
    response = api.patch(
        steps_url(company, sequence, step), {"step_type": "call", "variants": []}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["step_type"] == "call" and response.json()["variants"] == []


def test_patch_sets_changes_and_clears_an_experiment(api, company, sequence):
    step = SequenceStepFactory(sequence=sequence)
    url = steps_url(company, sequence, step)
    assert api.patch(url, {"variants": TWO, "holdout_percent": 20}, format="json").status_code == 200
    three = [*TWO, variant("c", 5)]
    response = api.put(url, {"variants": three}, format="json")
    assert response.status_code == 200 and [v["key"] for v in response.json()["variants"]] == ["a", "b", "c"]
    assert response.json()["holdout_percent"] == 20  # left out: kept
    response = api.patch(url, {"variants": [], "holdout_percent": 0}, format="json")
    assert response.json()["variants"] == [] and response.json()["holdout_percent"] == 0


# --- the history lock ----------------------------------------------------------------------------


def with_history(step):
    ScheduledStepFactory(
        step=step, enrollment=EnrollmentFactory(sequence=step.sequence, company=step.sequence.company)
    )
    return step


@pytest.mark.parametrize(
    "payload",
    [
        {"variants": [TWO[0], {**TWO[1], "weight": 31}]},
        {"variants": [TWO[0], {**TWO[1], "subject_template": "Other"}]},
        {"variants": []},
        {"holdout_percent": 11},
        {"holdout_percent": 0},
    ],
)
def test_with_history_the_experiment_cannot_change(api, company, sequence, payload):
    step = with_history(SequenceStepFactory(sequence=sequence, variants=TWO, holdout_percent=10))
    response = api.patch(steps_url(company, sequence, step), payload, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "step_has_history"
    assert next(iter(payload)) in response.json()["detail"]
    step.refresh_from_db()
    assert step.variants == TWO and step.holdout_percent == 10


def test_with_history_label_changes_and_the_same_experiment_is_no_change(api, company, sequence):
    step = with_history(SequenceStepFactory(sequence=sequence, variants=TWO, holdout_percent=10))
    # The same variants, keys in another order inside each object and templates left out as stored.
    same = [{k: v for k, v in reversed(list(item.items())) if v != ""} for item in TWO]
    response = api.patch(
        steps_url(company, sequence, step),
        {"label": "Renamed", "variants": same, "holdout_percent": 10},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["label"] == "Renamed" and response.json()["variants"] == TWO


def test_duplicate_from_copies_the_experiment(api, company, sequence):
    with_history(SequenceStepFactory(sequence=sequence, variants=TWO, holdout_percent=25))
    response = api.post(
        company_url(company, "sequences"), {"name": "Copy", "duplicate_from": str(sequence.id)}, format="json"
    )
    assert response.status_code == 201, response.json()
    copy = SequenceStep.objects.get(sequence_id=response.json()["id"])
    assert copy.variants == TWO and copy.holdout_percent == 25
    # The copy has no history: its experiment may change.
    url = steps_url(company, copy.sequence, copy)
    assert api.patch(url, {"holdout_percent": 0}, format="json").status_code == 200


# --- OpenAPI -------------------------------------------------------------------------------------


def test_openapi_has_a_variant_component_and_the_step_fields(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    step = components["Step"]
    assert step["properties"]["variants"]["items"] == {"$ref": "#/components/schemas/StepVariant"}
    assert step["properties"]["holdout_percent"] == {
        **step["properties"]["holdout_percent"],
        "minimum": 0,
        "maximum": 50,
    }
    assert {"variants", "holdout_percent"} <= set(step["required"])
    assert components["StepRequest"]["properties"]["variants"]["items"] == {
        "$ref": "#/components/schemas/StepVariantRequest"
    }
    variant_schema = components["StepVariant"]
    assert set(variant_schema["properties"]) == {
        "key",
        "weight",
        "subject_template",
        "body_plain_template",
        "body_html_template",
    }
    assert variant_schema["properties"]["weight"]["minimum"] == 1
    assert variant_schema["properties"]["weight"]["maximum"] == 100


# --- admin: the same checks ------------------------------------------------------------------------


def test_admin_step_form_uses_the_service_checks(company):
    from sequences.admin import StepInlineForm

    sequence = SequenceFactory(company=company)
    base = {
        "step_type": "reminder",
        "label": "Day 0",
        "offset_days": 0,
        "offset_time": "09:00",
        "is_active": True,
        "subject_template": "S",
        "body_plain_template": "B",
        "body_html_template": "",
        "instructions": "",
        "holdout_percent": 0,
    }
    import json

    form = StepInlineForm(data={**base, "variants": json.dumps([variant("a"), variant("holdout")])})
    form.parent_sequence = sequence
    assert not form.is_valid()
    assert form.errors["variants"] == ["Item 1: key: 'holdout' names the held-out group; choose another key."]

    form = StepInlineForm(data={**base, "step_type": "task", "variants": "[]", "holdout_percent": 5})
    form.parent_sequence = sequence
    assert not form.is_valid()
    assert form.errors["holdout_percent"] == ["Only a reminder step may have a holdout (this one is a task)."]

    form = StepInlineForm(data={**base, "variants": json.dumps(TWO), "holdout_percent": 10})
    form.parent_sequence = sequence
    assert form.is_valid(), form.errors

    # Stored as the API stores them: a body left out is "", an unknown field dropped.
    sparse = [{**variant("a"), "junk": "y"}, variant("b")]
    del sparse[1]["body_html_template"]
    form = StepInlineForm(data={**base, "variants": json.dumps(sparse), "holdout_percent": 10})
    form.parent_sequence = sequence
    assert form.is_valid(), form.errors
    stored = form.cleaned_data["variants"]
    assert "junk" not in stored[0] and stored[1]["body_html_template"] == ""

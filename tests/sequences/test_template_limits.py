"""Template size and depth limits: a hostile template is a 400 naming the limit, before Jinja compiles.

Compiling is the step that took seconds, so these tests bound the work by counting compilations
(Jinja's own `Environment.compile`, through which every validation and render goes), not by time.
"""

import jinja2
import pytest

from sequences.models import SequenceStep
from sequences.templating import MAX_DEPTH, MAX_NODES, MAX_TOKENS, template_errors
from tests.conftest import company_url
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

# The template from the issue: 12.6 KB, 300 `and` operands; compiling it took 6.4 s of CPU.
HOSTILE = "{{ " + " and ".join(["invoice.days_overdue >= total_due|int"] * 300) + " }}"
PARENTHESES = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"


@pytest.fixture
def compilations(monkeypatch):
    calls = []
    original = jinja2.Environment.compile

    def counting(self, *args, **kwargs):
        calls.append(args[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return calls


@pytest.fixture
def sequence(company):
    return SequenceFactory(company=company)


def steps_url(company, sequence, step=None):
    return company_url(company, f"sequences/{sequence.id}/steps" + (f"/{step.id}" if step else ""))


@pytest.mark.django_db
def test_hostile_chain_is_400_naming_the_limit_without_compiling(api, company, sequence, compilations):
    assert len(HOSTILE) > 12_000
    response = api.post(steps_url(company, sequence), {"body_plain_template": HOSTILE}, format="json")
    assert response.status_code == 400
    [message] = response.json()["body_plain_template"]
    assert f"nested too deeply: more than {MAX_DEPTH} levels" in message
    assert compilations == []

    step = SequenceStepFactory(sequence=sequence)
    response = api.patch(steps_url(company, sequence, step), {"body_html_template": HOSTILE}, format="json")
    assert response.status_code == 400
    assert f"more than {MAX_DEPTH} levels" in response.json()["body_html_template"][0]
    assert compilations == []
    step.refresh_from_db()
    assert step.body_html_template == "<p>Hello {{ customer.name }}</p>"

    # The counter does count: a valid template is compiled once per field.
    valid = {"body_plain_template": "{{ total_due }}"}
    assert api.post(steps_url(company, sequence), valid, format="json").status_code == 201
    assert compilations


@pytest.mark.django_db
def test_too_many_nodes_is_400_naming_the_limit_without_compiling(api, company, sequence, compilations):
    body = "Total: {{ total_due }}\n" * (MAX_NODES // 2)  # two nodes each, plus the root
    response = api.post(steps_url(company, sequence), {"body_plain_template": body}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "body_plain_template": [f"the template is too large: more than {MAX_NODES} syntax nodes"]
    }
    assert compilations == []


@pytest.mark.django_db
def test_deep_parentheses_are_400_not_500(api, company, sequence, compilations):
    """5,000 brackets would recurse through Jinja's parser (~14 frames each): refused before parsing."""
    response = api.post(steps_url(company, sequence), {"body_plain_template": PARENTHESES}, format="json")
    assert response.status_code == 400
    message = f"the template is nested too deeply: more than {MAX_DEPTH} levels of brackets"
    assert response.json() == {"body_plain_template": [message]}
    assert compilations == []
    assert not SequenceStep.objects.filter(sequence=sequence).exists()


@pytest.mark.django_db
def test_templates_at_the_limits_are_accepted(api, company, sequence):
    """The limits are boundaries, not guesses: one under each is a valid step, even inside a request."""
    brackets = "{{ " + "(" * MAX_DEPTH + "total_due" + ")" * MAX_DEPTH + " }}"
    chain = "{{ " + " and ".join(["total_due"] * (MAX_DEPTH - 1)) + " }}"  # deepest name: level MAX_DEPTH
    nodes = "{{ total_due }}" * (MAX_NODES - 2)  # root, one Output, and a name each
    for body in (brackets, chain, nodes):
        response = api.post(steps_url(company, sequence), {"body_plain_template": body}, format="json")
        assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ " + " and ".join(["total_due"] * MAX_DEPTH) + " }}", f"more than {MAX_DEPTH} levels"),
        ("{{ total_due" + "|string" * MAX_DEPTH + " }}", f"more than {MAX_DEPTH} levels"),
        ("{% if total_due %}" * (MAX_DEPTH + 1) + "{% endif %}" * (MAX_DEPTH + 1), f"more than {MAX_DEPTH}"),
        ("{{ " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + " }}", f"more than {MAX_DEPTH} levels"),
        ("{{ total_due }}" * (MAX_NODES - 1), f"more than {MAX_NODES} syntax nodes"),
        ("{{ total_due" + "|e" * MAX_TOKENS + " }}", f"more than {MAX_TOKENS} tokens"),
        ("x" + "{{ total_due }}" * 30_000, f"more than {MAX_TOKENS} tokens"),
    ],
)
def test_each_limit_is_named(source, message, compilations):
    errors = template_errors(body_html=source)
    assert list(errors) == ["body_html_template"]
    assert message in errors["body_html_template"][0], errors
    assert compilations == []


def test_whitespace_does_not_count_as_tokens():
    spaced = "{{    total_due    }}" * (MAX_NODES - 2)  # 5 tokens each with the spaces, 3 without
    assert 5 * (MAX_NODES - 2) > MAX_TOKENS > 3 * (MAX_NODES - 2)
    assert template_errors(body_plain=spaced) == {}


def test_a_stored_template_past_the_limits_fails_its_render_without_compiling(
    company, sequence, compilations
):
    """Saved before the limits existed, or written around the API: the row fails, no CPU is burnt."""
    from sequences.templating import TemplateRenderError, render_step

    step = SequenceStepFactory(sequence=sequence)
    SequenceStep.objects.filter(pk=step.pk).update(
        subject_template="", body_html_template="", body_plain_template=HOSTILE
    )
    step.refresh_from_db()
    with pytest.raises(TemplateRenderError, match=f"more than {MAX_DEPTH} levels"):
        render_step(step, {"customer": {"name": "A"}, "invoice": None})
    assert compilations == []

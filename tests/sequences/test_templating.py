"""The template module on its own: validation, context building and sandboxed rendering."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest

from sequences.models import SequenceStep
from sequences.templating import (
    CONTEXT_VARIABLES,
    LIST_VARIABLES,
    RenderedEmail,
    TemplateRenderError,
    build_context,
    invoice_context,
    render_step,
    template_errors,
)

TODAY = datetime.date(2026, 11, 26)


def make_context(**overrides):
    values = {
        "company_name": "Daylit",
        "customer_name": "Acme <Corp>",
        "customer_email": "ap@acme.example",
        "invoice": {
            "number": "INV-1",
            "amount_due": Decimal("100.50"),
            "currency": "USD",
            "due_date": datetime.date(2026, 11, 1),
        },
        "open_invoices": [
            {
                "number": "INV-1",
                "amount_due": Decimal("100.50"),
                "currency": "USD",
                "due_date": datetime.date(2026, 11, 1),
                "payment_url": "https://pay.example/inv-1",
                "id": 7,
            },
            {"number": "INV-2", "amount_due": "20", "currency": "USD", "due_date": "2026-12-31"},
        ],
        "sender_name": "Dana",
        "sender_email": "dana@seller.example",
        "enrollment_start_date": datetime.date(2026, 11, 20),
        "today": TODAY,
        "promise": {"amount": Decimal("50.00"), "promised_date": datetime.date(2026, 12, 1)},
    }
    values["invoice"]["payment_url"] = "https://pay.example/inv-1"
    values.update(overrides)
    return build_context(**values)


def step(subject="", plain="", html=""):
    return SequenceStep(subject_template=subject, body_plain_template=plain, body_html_template=html)


def test_context_checker_and_renderer_agree_with_the_one_list():
    """`build_context` builds exactly CONTEXT_VARIABLES, the checker accepts every path in it and only
    those, and each renders."""
    ctx = make_context()
    assert set(ctx) == set(CONTEXT_VARIABLES)
    for name, attributes in CONTEXT_VARIABLES.items():
        base = f"{name}[0]" if name in LIST_VARIABLES else name
        value = ctx[name][0] if name in LIST_VARIABLES else ctx[name]
        assert (set(value) if isinstance(value, dict) else set()) == set(attributes), name
        for path in [f"{base}.{attribute}" for attribute in attributes] or [base]:
            assert template_errors(subject="{{ " + path + " }}") == {}, path
            assert render_step(step(subject="{{ " + path + " }}"), ctx).subject, path
        assert template_errors(subject="{{ " + base + ".not_in_the_list }}"), name


def test_docs_list_the_same_variables():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sequences.md").read_text()
    assert set(re.findall(r"^\| `(\w+)` \|", docs, flags=re.MULTILINE)) == set(CONTEXT_VARIABLES)


def test_build_context_is_plain_data():
    ctx = make_context()
    assert ctx["invoice"] == {
        "number": "INV-1",
        "amount_due": Decimal("100.50"),
        "currency": "USD",
        "due_date": datetime.date(2026, 11, 1),
        "days_overdue": 25,
        "payment_url": "https://pay.example/inv-1",
    }
    assert ctx["promise"] == {"amount": Decimal("50.00"), "promised_date": datetime.date(2026, 12, 1)}
    assert ctx["invoices"][1]["payment_url"] == ""  # none: an email never says "None"
    assert make_context(promise=None)["promise"] is None
    assert make_context(invoice=None)["promise"] is None  # a promise is of the invoice the email is about
    assert [i["number"] for i in ctx["invoices"]] == ["INV-1", "INV-2"]
    assert ctx["invoices"][1]["days_overdue"] == 0
    assert "id" not in ctx["invoices"][0]
    assert ctx["total_due"] == Decimal("120.50")
    assert ctx["enrollment"] == {"start_date": datetime.date(2026, 11, 20)}

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (str, Decimal, datetime.date, int))

    assert plain(ctx)


def test_invoice_context_days_overdue():
    inv = invoice_context(
        number="A", amount_due=5, currency="EUR", due_date=datetime.date(2026, 11, 30), today=TODAY
    )
    assert inv["days_overdue"] == 0 and inv["amount_due"] == Decimal("5")
    late = invoice_context(number="A", amount_due="5", currency="EUR", due_date="2026-11-16", today=TODAY)
    assert late["days_overdue"] == 10


def test_render_all_variables():
    rendered = render_step(
        step(
            subject="Invoice {{ invoice.number }}: {{ invoice.amount_due }} {{ invoice.currency }}\n",
            plain="Hi {{ customer.name }} ({{ customer.email }}), {{ company.name }} here."
            " Total {{ total_due }}."
            "{% for inv in invoices %} {{ inv.number }}/{{ inv.days_overdue }}{% endfor %}"
            " Due {{ invoice.due_date }}, started {{ enrollment.start_date }}."
            " {{ sender.name }} {{ sender.email }}",
            html="<p>{{ customer.name }}</p>",
        ),
        make_context(),
    )
    assert rendered == RenderedEmail(
        subject="Invoice INV-1: 100.50 USD",
        body_plain="Hi Acme <Corp> (ap@acme.example), Daylit here. Total 120.50. INV-1/25 INV-2/0"
        " Due 2026-11-01, started 2026-11-20. Dana dana@seller.example",
        body_html="<p>Acme &lt;Corp&gt;</p>",
    )


def test_missing_invoice_is_a_clear_render_error():
    with pytest.raises(TemplateRenderError) as exc:
        render_step(
            step(subject="Invoice {{ invoice.number }}"), make_context(invoice=None, open_invoices=[])
        )
    assert "subject_template" in str(exc.value) and "no open invoice" in str(exc.value)


@pytest.mark.parametrize(
    ("plain", "reason"),
    [
        ("{{ invoice.amount_due / 0 }}", "body_plain_template: the template divides by zero"),
        ("{{ invoice.amount_due // 0 }}", "body_plain_template: the template divides by zero"),
        (
            "{{ (invoice.amount_due * 0) / 0 }}",
            "body_plain_template: the template does arithmetic that has no",
        ),
    ],
)
def test_arithmetic_failures_read_as_sentences_not_reprs(plain, reason):
    """Decimal's signals stringify as `[<class 'decimal.DivisionByZero'>]`: the row must say it in words."""
    with pytest.raises(TemplateRenderError) as exc:
        render_step(step(plain=plain), make_context())
    assert str(exc.value).startswith(reason) and "<class" not in str(exc.value)


def test_missing_invoice_can_be_tested_for():
    rendered = render_step(
        step(subject="{% if invoice %}{{ invoice.number }}{% else %}Your account{% endif %}"),
        make_context(invoice=None, open_invoices=[]),
    )
    assert rendered.subject == "Your account"
    assert make_context(invoice=None, open_invoices=[])["total_due"] == Decimal("0.00")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ invoce.number }}", "unknown variable 'invoce'"),
        ("{{ invoice.numbr }}", "unknown variable 'invoice.numbr'"),
        ("{{ customer['emial'] }}", "unknown variable 'customer.emial'"),
        ("{% for i in invoices %}{{ i.total }}{% endfor %}", "unknown variable 'i.total'"),
        ("{{ customer.name.upper() }}", "unknown variable 'customer.name.upper'"),
        ("{{ customer.items() }}", "unknown variable 'customer.items'"),
        ("{{ range(10) }}", "unknown variable 'range'"),
        ("{{ customer.__class__ }}", "attribute '__class__' is not allowed"),
        ("{{ ''.__class__.__mro__ }}", "attribute '__class__' is not allowed"),
        ("{{ customer|attr('__class__') }}", "No filter named 'attr'"),
        ("{{ invoices|map(attribute='__class__')|list }}", "'__class__' is not allowed"),
        ("{% include 'secrets.txt' %}", "include, import and extends are not supported"),
        ("{% set s = customer.name %}{{ s }}", "set, with, macro, call and filter blocks are not supported"),
        ("{% macro m(x) %}{{ x }}{{ x }}{% endmacro %}{{ m(1) }}", "macro"),
        ("{% with a = 1 %}{{ a }}{% endwith %}", "with"),
        (
            "{% for a in invoices %}{% for b in invoices %}{% for c in invoices %}x{% endfor %}{% endfor %}"
            "{% endfor %}",
            "loops may be nested at most 2 deep",
        ),
        ("{{ customer.name|replace('a', 'b') }}", "No filter named 'replace'"),
        ("{{ customer.name|center(999999999) }}", "No filter named 'center'"),
        ("{{ customer.name ", "syntax error on line 1"),
        ("{% if %}", "syntax error"),
    ],
)
def test_template_errors(template, message):
    errors = template_errors(subject=template)
    assert list(errors) == ["subject_template"]
    assert any(message in m for m in errors["subject_template"]), errors


def test_template_errors_name_each_field():
    errors = template_errors(subject="ok", body_plain="{{ nope }}", body_html="{% for %}")
    assert set(errors) == {"body_plain_template", "body_html_template"}


def test_valid_templates_have_no_errors():
    assert (
        template_errors(
            subject="{{ invoice.number }} {{ invoices[0].number }} {{ invoices|length }}",
            body_plain="{{ customer.name|upper }}"
            "{% for i in invoices %}{{ loop.index }} {{ i.number }}{% endfor %}",
            body_html="{{ total_due|round(2) }} {{ invoice.due_date }} {{ customer['name'] }}",
        )
        == {}
    )


@pytest.mark.parametrize(
    "template",
    [
        "{{ customer.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ 'a' * 1000000000 }}",
        "{{ 'a' * 9000 + 'b' * 9000 }}",
        "{{ ['a' * 5000] * 3 }}",
        "{{ ('a' * 9999 ~ 'b' * 9999 ~ 'c' * 9999 ~ 'd' * 9999 ~ 'e' * 9999) * 1 }}",
        "{{ 10 ** 100000 }}",
        "{{ '%999999999d' % 1 }}",
        "{{ customer.update({'name': 'x'}) }}",
        "{{ 1 / 0 }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    ],
)
def test_sandbox_refuses_at_render_time(template):
    """Even a template that skipped validation (saved before a rule existed) cannot escape."""
    with pytest.raises(TemplateRenderError):
        render_step(step(subject=template), make_context())


def test_attribute_bypass_renders_nothing_harmful():
    rendered = render_step(step(subject="{{ invoices|map(attribute='__class__')|list }}"), make_context())
    assert "class" not in rendered.subject


def test_html_autoescaped_text_not():
    ctx = make_context(customer_name="<script>x</script>")
    rendered = render_step(
        step(subject="{{ customer.name }}", plain="{{ customer.name }}", html="{{ customer.name }}"), ctx
    )
    assert rendered.subject == rendered.body_plain == "<script>x</script>"
    assert rendered.body_html == "&lt;script&gt;x&lt;/script&gt;"


def test_empty_templates_render_empty():
    assert render_step(step(html="<p>{{ customer.name }}</p>"), make_context()).body_plain == ""


def test_rendered_output_is_capped():
    loop = "{% for i in invoices %}" + "{{ 'a' * 9999 }}" * 60 + "{% endfor %}"
    ctx = make_context(
        open_invoices=[
            {"number": str(n), "amount_due": 1, "currency": "USD", "due_date": "2026-11-01"} for n in range(3)
        ]
    )
    with pytest.raises(TemplateRenderError, match="longer than"):
        render_step(step(plain=loop), ctx)


@pytest.mark.parametrize(
    "source",
    [
        "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
        "{% if total_due %}" * 101 + "x" + "{% endif %}" * 101,
        "{% for i in invoices %}" * 25 + "x" + "{% endfor %}" * 25,
        "{{ " + "+".join(["1"] * 250) + " }}",
        "{{ total_due" + "|string" * 250 + " }}",
        "{{ " + " and ".join(["total_due"] * 300) + " }}",
        # Shapes the parser recurses on that the bracket count does not see: still a message.
        "{{ " + "not " * 5000 + "total_due }}",
        "{{ " + "- " * 5000 + "total_due }}",
        "{% if total_due %}" * 600 + "{% endif %}" * 600,
    ],
)
def test_nested_too_deeply_is_a_400_message_not_a_crash(source):
    errors = template_errors(body_plain=source)
    assert errors and "body_plain_template" in errors

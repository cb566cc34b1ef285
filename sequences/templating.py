"""Everything about step templates: validation on save, the render context, and rendering.

Templates are Jinja2 rendered in an immutable sandbox with `StrictUndefined`; the HTML body is
autoescaped, subject and plain text are not. Two lines of defence:

1. On save, `template_errors` parses each template and walks its AST: every variable and attribute
   path must be in `CONTEXT_VARIABLES` (e.g. `invoice.numbr` is rejected), private attributes
   (`__class__`) and methods of plain values are rejected, `include`/`import`/`extends` are
   rejected, and only the filters in `ALLOWED_FILTERS` may be used.
2. At render time the context holds only plain data (dicts, lists, str, Decimal, date) built by
   `build_context`, never model instances, and the sandbox refuses unsafe attributes and
   oversized `*`, `**` and `%` results, so even a template saved before these rules cannot reach a
   method of ours or exhaust memory.

Any failure to render is a `TemplateRenderError` whose message is fit to store on a failed row.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from sequences.models import SUBJECT_MAX_LENGTH

INVOICE_FIELDS = ("number", "amount_due", "currency", "due_date", "days_overdue")

# The allowed names and, for each, the attributes a template may read. `invoices` is a list whose
# items have the invoice fields; `total_due` is a plain value with no attributes.
CONTEXT_VARIABLES: dict[str, tuple[str, ...]] = {
    "customer": ("name", "email"),
    "company": ("name",),
    "invoice": INVOICE_FIELDS,
    "invoices": INVOICE_FIELDS,
    "total_due": (),
    "sender": ("name", "email"),
    "enrollment": ("start_date",),
}

# Filters that cannot build huge strings or reach attributes by name (`attr`, `center`, `format`,
# `indent`, `wordwrap`, `xmlattr`, `safe`, ... are left out on purpose).
ALLOWED_FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "default",
        "e",
        "escape",
        "first",
        "float",
        "int",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "map",
        "max",
        "min",
        "reject",
        "rejectattr",
        "reverse",
        "round",
        "select",
        "selectattr",
        "sort",
        "string",
        "striptags",
        "sum",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "wordcount",
    }
)

FIELD_SUBJECT = "subject_template"
FIELD_PLAIN = "body_plain_template"
FIELD_HTML = "body_html_template"

MAX_RESULT_LENGTH = 10_000  # longest string (or list content) one `*` or `+` may build
MAX_EXPONENT = 100
MAX_LOOP_DEPTH = 2
MAX_OUTPUT_LENGTH = 1_000_000  # characters one rendered field may have


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_plain: str
    body_html: str


class TemplateRenderError(Exception):
    """A template could not be rendered; `str(e)` is the human reason stored on a failed row."""


def _size(value: str | list | tuple) -> int:
    if isinstance(value, str):
        return len(value)
    return sum(len(item) if isinstance(item, str) else 1 for item in value)


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "+", "**", "%"})

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**" and isinstance(right, (int, float, Decimal)) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent larger than {MAX_EXPONENT} is not allowed")
        if operator_name == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed")
        if operator_name == "*":
            for seq, times in ((left, right), (right, left)):
                is_repeat = isinstance(seq, (str, list, tuple)) and isinstance(times, int)
                if is_repeat and _size(seq) * times > MAX_RESULT_LENGTH:
                    raise SecurityError(f"results longer than {MAX_RESULT_LENGTH} are not allowed")
        if (
            operator_name == "+"
            and isinstance(left, (str, list, tuple))
            and isinstance(right, (str, list, tuple))
        ) and _size(left) + _size(right) > MAX_RESULT_LENGTH:
            raise SecurityError(f"results longer than {MAX_RESULT_LENGTH} are not allowed")
        return super().call_binop(context, operator_name, left, right)


def _make_env(*, autoescape: bool) -> _Sandbox:
    env = _Sandbox(autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=True)
    env.globals.clear()  # no range/dict/lipsum/cycler/namespace: only the documented context
    env.filters = {name: f for name, f in env.filters.items() if name in ALLOWED_FILTERS}
    return env


_TEXT_ENV = _make_env(autoescape=False)
_HTML_ENV = _make_env(autoescape=True)


# --- validation -------------------------------------------------------------------------------

_SCALAR = "scalar"
_ANY = "any"
_UNSUPPORTED_STATEMENTS = (
    nodes.Assign,
    nodes.AssignBlock,
    nodes.With,
    nodes.Macro,
    nodes.CallBlock,
    nodes.FilterBlock,
)
_BLOCKED = "blocked"  # a path already reported as private: report nothing more below it


@dataclass(frozen=True)
class _ListOf:
    item: Any


_INVOICE_TYPE = {name: _SCALAR for name in INVOICE_FIELDS}
_SCHEMA: dict[str, Any] = {
    "customer": {"name": _SCALAR, "email": _SCALAR},
    "company": {"name": _SCALAR},
    "invoice": _INVOICE_TYPE,
    "invoices": _ListOf(_INVOICE_TYPE),
    "total_due": _SCALAR,
    "sender": {"name": _SCALAR, "email": _SCALAR},
    "enrollment": {"start_date": _SCALAR},
}


class _Checker:
    """Walks a template AST with lexical scopes, collecting every path outside the context."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.loop_depth = 0

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def check(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.Expr):
            self.type_of(node, scope)
        elif isinstance(node, (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            self.error("include, import and extends are not supported")
        elif isinstance(node, nodes.For):
            self.check_for(node, scope)
        elif isinstance(node, _UNSUPPORTED_STATEMENTS):
            # Each of these can double a value per statement or per nesting level (memory exhaustion),
            # and reminder emails do not need them.
            self.error("set, with, macro, call and filter blocks are not supported")
        else:
            for child in node.iter_child_nodes():
                self.check(child, scope)

    def check_all(self, body: list[nodes.Node], scope: dict[str, Any]) -> None:
        for child in body:
            self.check(child, scope)

    def check_for(self, node: nodes.For, scope: dict[str, Any]) -> None:
        self.loop_depth += 1
        if self.loop_depth > MAX_LOOP_DEPTH:
            self.error(f"loops may be nested at most {MAX_LOOP_DEPTH} deep")
        iter_type = self.type_of(node.iter, scope)
        item_type = iter_type.item if isinstance(iter_type, _ListOf) else _ANY
        if isinstance(iter_type, dict):
            item_type = _SCALAR  # iterating a dict yields its keys
        inner = {**scope, "loop": _ANY}
        self.bind(node.target, item_type, inner)
        if node.test is not None:
            self.type_of(node.test, inner)
        self.check_all(node.body, inner)
        self.check_all(node.else_, scope)
        self.loop_depth -= 1

    def bind(self, target: nodes.Node, value_type: Any, scope: dict[str, Any]) -> None:
        if isinstance(target, nodes.Name):
            scope[target.name] = value_type
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self.bind(item, _ANY, scope)
        elif isinstance(target, nodes.NSRef) and target.name not in scope:
            self.error(f"unknown variable '{target.name}'")

    def type_of(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]
            if node.name in _SCHEMA:
                return _SCHEMA[node.name]
            self.error(f"unknown variable '{node.name}'")
            return _ANY
        if isinstance(node, nodes.Getattr):
            return self.member(node.node, node.attr, scope)
        if isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self.member(node.node, node.arg.value, scope)
            base = self.type_of(node.node, scope)
            self.type_of(node.arg, scope)
            if isinstance(base, _ListOf):
                return base if isinstance(node.arg, nodes.Slice) else base.item
            if base is not _ANY:
                self.error(f"'{_describe(node.node)}' cannot be indexed like that")
            return _ANY
        if isinstance(node, nodes.Const):
            return _SCALAR
        if isinstance(node, nodes.Filter):
            if node.name not in ALLOWED_FILTERS:
                self.error(f"filter '{node.name}' is not allowed")
            for kwarg in node.kwargs:
                if isinstance(kwarg.value, nodes.Const) and str(kwarg.value.value).startswith("_"):
                    self.error(f"'{kwarg.value.value}' is not allowed")
            for arg in node.args:
                if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and arg.value.startswith("_"):
                    self.error(f"'{arg.value}' is not allowed")
        for child in node.iter_child_nodes():
            self.check(child, scope)
        return _ANY

    def member(self, base_node: nodes.Node, name: str, scope: dict[str, Any]) -> Any:
        base = self.type_of(base_node, scope)
        path = f"{_describe(base_node)}.{name}"
        if base is _BLOCKED:
            return _BLOCKED
        if name.startswith("_"):
            self.error(f"attribute '{name}' is not allowed (in {path}): private attributes are not available")
            return _BLOCKED
        if base is _ANY:
            return _ANY
        if isinstance(base, dict) and name in base:
            return base[name]
        self.error(f"unknown variable '{path}'")
        return _ANY


def _describe(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_describe(node.node)}[{node.arg.value!r}]"
    if isinstance(node, nodes.Const):
        return repr(node.value)
    return "(expression)"


def _template_problems(source: str, env: _Sandbox) -> list[str]:
    if not source:
        return []
    try:
        tree = env.parse(source)
        env.compile(source)  # also reports unknown filters/tests, which parse alone does not
    except TemplateSyntaxError as exc:
        return [f"syntax error on line {exc.lineno}: {exc.message}"]
    except (RecursionError, SyntaxError):
        # Python's own compiler refuses what Jinja generated (too many nested blocks or terms).
        return ["the template is nested too deeply or is too long an expression"]
    checker = _Checker()
    try:
        checker.check(tree, {})
    except RecursionError:
        return ["the template is nested too deeply"]
    return checker.errors


def template_errors(*, subject: str = "", body_plain: str = "", body_html: str = "") -> dict[str, list[str]]:
    """Field name -> messages for every template that does not parse or leaves the context.

    Empty when all are valid. Field names are the step's: subject_template, body_plain_template,
    body_html_template.
    """
    found = {
        FIELD_SUBJECT: _template_problems(subject, _TEXT_ENV),
        FIELD_PLAIN: _template_problems(body_plain, _TEXT_ENV),
        FIELD_HTML: _template_problems(body_html, _HTML_ENV),
    }
    return {field: messages for field, messages in found.items() if messages}


# --- context ----------------------------------------------------------------------------------


def _as_decimal(value: Any) -> Decimal:
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def _as_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def invoice_context(*, number, amount_due, currency, due_date, today: datetime.date) -> dict:
    """An invoice as template data; `days_overdue` is 0 until the due date has passed."""
    due = _as_date(due_date)
    return {
        "number": str(number),
        "amount_due": _as_decimal(amount_due),
        "currency": str(currency),
        "due_date": due,
        "days_overdue": max(0, (today - due).days),
    }


def _normalise_invoice(invoice: dict, today: datetime.date) -> dict:
    return invoice_context(
        number=invoice["number"],
        amount_due=invoice["amount_due"],
        currency=invoice["currency"],
        due_date=invoice["due_date"],
        today=today,
    )


def build_context(
    *,
    company_name: str,
    customer_name: str,
    customer_email: str,
    invoice: dict | None,
    open_invoices: list[dict],
    sender_name: str,
    sender_email: str,
    enrollment_start_date: datetime.date,
    today: datetime.date,
) -> dict:
    """The template context as plain data, never model instances (so templates reach no method).

    `invoice` and each of `open_invoices` need the keys number, amount_due, currency, due_date
    (extra keys, e.g. from `.values()`, are ignored; `days_overdue` is recomputed against `today`).
    `invoice` None means the customer has no invoice to talk about: rendering `{{ invoice.number }}`
    then fails with a clear TemplateRenderError, while `{% if invoice %}` is simply false.
    `total_due` is the sum of the open invoices' amount_due (currencies are not converted).
    """
    invoices = [_normalise_invoice(item, today) for item in open_invoices]
    return {
        "customer": {"name": customer_name or "", "email": customer_email or ""},
        "company": {"name": company_name or ""},
        "invoice": _normalise_invoice(invoice, today) if invoice is not None else None,
        "invoices": invoices,
        "total_due": sum((item["amount_due"] for item in invoices), Decimal("0.00")),
        "sender": {"name": sender_name or "", "email": sender_email or ""},
        "enrollment": {"start_date": _as_date(enrollment_start_date)},
    }


# --- rendering --------------------------------------------------------------------------------


class _MissingInvoice:
    """Stands in for `invoice` when there is none: false in `{% if %}`, a clear error when read."""

    MESSAGE = "the customer has no open invoice, so 'invoice' cannot be rendered"

    def __bool__(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise UndefinedError(self.MESSAGE)

    def __getitem__(self, name: Any) -> Any:
        raise UndefinedError(self.MESSAGE)

    def __str__(self) -> str:
        raise UndefinedError(self.MESSAGE)

    __html__ = __str__


@functools.lru_cache(maxsize=512)
def _compiled(source: str, html: bool):
    return (_HTML_ENV if html else _TEXT_ENV).from_string(source)


_RENDER_FAILURES = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    RecursionError,
    SyntaxError,
)


def _render_one(field: str, source: str, context: dict, *, html: bool) -> str:
    if not source:
        return ""
    try:
        chunks, length = [], 0
        for chunk in _compiled(source, html).generate(context):
            length += len(chunk)
            if length > MAX_OUTPUT_LENGTH:
                raise TemplateRenderError(
                    f"{field}: the rendered text is longer than {MAX_OUTPUT_LENGTH} characters"
                )
            chunks.append(chunk)
        return "".join(chunks)
    except _RENDER_FAILURES as exc:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise TemplateRenderError(f"{field}: {message}") from exc


def render_step(step, context: dict) -> RenderedEmail:
    """Render a step's three templates with `context` (from `build_context`).

    Raises TemplateRenderError (message names the field) for a template that does not parse, reads
    a missing value (e.g. `invoice` when there is none), trips the sandbox, or gives a subject longer
    than SUBJECT_MAX_LENGTH. An empty template renders as "" (an empty plain body is allowed when the
    HTML body has the content).
    """
    if context.get("invoice") is None:
        context = {**context, "invoice": _MissingInvoice()}
    # A subject is one line: newlines a template produced (loops, blocks) become single spaces.
    subject = " ".join(_render_one(FIELD_SUBJECT, step.subject_template, context, html=False).split())
    if len(subject) > SUBJECT_MAX_LENGTH:
        length = len(subject)
        raise TemplateRenderError(
            f"{FIELD_SUBJECT}: the rendered subject is {length} characters; at most {SUBJECT_MAX_LENGTH}"
        )
    return RenderedEmail(
        subject=subject,
        body_plain=_render_one(FIELD_PLAIN, step.body_plain_template, context, html=False),
        body_html=_render_one(FIELD_HTML, step.body_html_template, context, html=True),
    )


__all__ = [
    "ALLOWED_FILTERS",
    "CONTEXT_VARIABLES",
    "RenderedEmail",
    "TemplateRenderError",
    "build_context",
    "invoice_context",
    "render_step",
    "template_errors",
]

"""Template validation on save: bounded first, then compiled, then checked against the context.

Order matters. Jinja's code generator costs far more than the text suggests (a 12.6 KB chain of
300 `and` operands took 6.4 s of CPU to compile), so before anything is compiled:

1. the lexer (a flat loop) counts tokens and bracket nesting, stopping at the first excess: this
   bounds the parser, which is also linear but recurses about 14 Python frames per bracket level;
2. the parsed tree is walked without recursion and refused past `MAX_NODES` nodes or `MAX_DEPTH`
   levels: this bounds the compiler (and `_Checker`, which recurses per level).

Only then is the tree compiled (which reports unknown filters and tests, which parsing does not)
and checked against the context. Each limit failure is a message naming the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, nodes

from sequences.templating.context import CONTEXT_VARIABLES, LIST_VARIABLES
from sequences.templating.sandbox import (
    ALLOWED_FILTERS,
    FIELD_HTML,
    FIELD_PLAIN,
    FIELD_SUBJECT,
    HTML_ENV,
    TEXT_ENV,
    _Sandbox,
)

# A rich reminder (greeting, an if/elif/else on the invoice, a table of all invoices with a
# nested if, totals, signature: 1.1 KB of HTML) has 244 tokens, 137 nodes and depth 7. The costliest
# template these limits accept validates in about 0.1 s of CPU.
MAX_TOKENS = 4_000  # real templates have about 2 tokens per node
MAX_NODES = 1_000
MAX_DEPTH = 30  # levels of the syntax tree; also of brackets, before parsing
MAX_LOOP_DEPTH = 2

_OPENING = frozenset("([{")
_CLOSING = frozenset(")]}")


def _token_problem(source: str, env: _Sandbox) -> str | None:
    tokens = depth = 0
    for _lineno, kind, value in env.lex(source):
        if kind == "whitespace":
            continue  # spacing style should not count against a template
        tokens += 1
        if tokens > MAX_TOKENS:
            return f"the template is too long: more than {MAX_TOKENS} tokens (names, operators, text runs)"
        if kind == "operator" and value in _OPENING:
            depth += 1
            if depth > MAX_DEPTH:
                return f"the template is nested too deeply: more than {MAX_DEPTH} levels of brackets"
        elif kind == "operator" and value in _CLOSING:
            depth -= 1
    return None


def _tree_problem(tree: nodes.Template) -> str | None:
    count, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            return f"the template is too large: more than {MAX_NODES} syntax nodes"
        if depth > MAX_DEPTH:
            return (
                f"the template is nested too deeply: more than {MAX_DEPTH} levels"
                " (blocks, filters and each operator of a chain like `a and b and c` count one each)"
            )
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return None


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


def _variable_type(name: str, attributes: tuple[str, ...]) -> Any:
    value = {attribute: _SCALAR for attribute in attributes} if attributes else _SCALAR
    return _ListOf(value) if name in LIST_VARIABLES else value


_SCHEMA: dict[str, Any] = {name: _variable_type(name, attrs) for name, attrs in CONTEXT_VARIABLES.items()}


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


def parse_within_limits(source: str, env: _Sandbox) -> nodes.Template:
    """The parsed template, or TemplateError naming the limit it exceeds: rendering compiles stored
    templates through this too, since one saved before the limits (or written around the API) must
    fail its row, not spend seconds of CPU in the promotion's transaction."""
    if too_big := _token_problem(source, env):
        raise TemplateError(too_big)
    tree = env.parse(source)
    if too_big := _tree_problem(tree):
        raise TemplateError(too_big)
    return tree


def _template_problems(source: str, env: _Sandbox) -> list[str]:
    if not source:
        return []
    try:
        if too_big := _token_problem(source, env):
            return [too_big]
        tree = env.parse(source)
        if too_big := _tree_problem(tree):
            return [too_big]
        env.compile(tree)  # also reports unknown filters/tests, which parse alone does not
    except TemplateSyntaxError as exc:
        return [f"syntax error on line {exc.lineno}: {exc.message}"]
    except (RecursionError, SyntaxError):
        # The parser recursed too deep on a shape the token scan does not count (`not not ...`,
        # hundreds of nested blocks), or Python's own compiler refused what Jinja generated (more
        # than 20 nested loops).
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
        FIELD_SUBJECT: _template_problems(subject, TEXT_ENV),
        FIELD_PLAIN: _template_problems(body_plain, TEXT_ENV),
        FIELD_HTML: _template_problems(body_html, HTML_ENV),
    }
    return {field: messages for field, messages in found.items() if messages}

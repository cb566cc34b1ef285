"""Every list's query parameters, read from our own OpenAPI schema, and values each must refuse.

The apps' `test_list_params.py` parametrize over their lists with `bad_cases`; tests/daylit checks
that the schema's lists are exactly the inventory below, so a new list or filter is covered (or the
inventory test fails until it is added).
"""

import functools
import re
import uuid
from urllib.parse import urlencode

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.factories.events import WebhookEndpointFactory
from tests.factories.sequences import SequenceFactory

PREFIX = "/api/companies/{company_id}/"


@functools.cache
def served_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@functools.cache
def list_parameters() -> dict[str, dict[str, dict]]:
    """{list path below PREFIX: {query parameter: its schema}} for every GET answering a page."""
    lists = {}
    for path, operations in served_schema()["paths"].items():
        get = operations.get("get")
        ok = (get or {}).get("responses", {}).get("200", {})
        ref = ok.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
        if path.startswith(PREFIX) and ref.startswith("#/components/schemas/Paginated"):
            params = {p["name"]: p["schema"] for p in get.get("parameters", []) if p["in"] == "query"}
            lists[path.removeprefix(PREFIX)] = params
    return lists


def list_operations() -> dict[str, dict]:
    return {path: served_schema()["paths"][PREFIX + path]["get"] for path in list_parameters()}


def kind(param_schema: dict) -> str:
    """How the schema types a parameter: uuid, enum, comma (an array sent comma-joined), integer, text."""
    if param_schema["type"] == "array":
        return "comma"
    if param_schema.get("format") == "uuid":
        return "uuid"
    if "enum" in param_schema:
        return "enum"
    return param_schema["type"].replace("string", "text")


def valid_value(param_schema: dict) -> str:
    def first_item():
        items = param_schema["items"]
        if "enum" in items:
            return items["enum"][0]
        return re.match(r"\^\(\?:([^|)]+)", items["pattern"]).group(1)

    return {
        "uuid": lambda: str(uuid.uuid4()),
        "enum": lambda: param_schema["enum"][0],
        "comma": first_item,
        "integer": lambda: "1",
        "text": lambda: "acme",
    }[kind(param_schema)]()


def bad_values(param_schema: dict) -> list[tuple[str, str]]:
    """(label, value) pairs the parameter must answer with a 400; always the empty value first."""
    malformed = {
        "uuid": [("malformed", "not-a-uuid"), ("number", "123")],
        "enum": [("unknown", "nope")],
        "comma": [("unknown", "nope"), ("only_commas", ","), ("empty_item", valid_value(param_schema) + ",")],
        "integer": [("malformed", "x"), ("fraction", "1.5")],
        "text": [
            ("blank", "   "),
            ("nul", "a\x00b"),
            ("too_long", "x" * (param_schema.get("maxLength", 10_000) + 1)),
        ],
    }[kind(param_schema)]
    return [("empty", ""), *malformed]


def bad_cases(*paths: str) -> list:
    """pytest params (path, parameter, query pairs) of every bad value of every parameter of `paths`:
    each bad value alone, and a valid value given twice (a comma list takes the repeated form)."""
    cases = []
    for path in paths:
        for name, param_schema in list_parameters()[path].items():
            for label, value in bad_values(param_schema):
                cases.append(pytest.param(path, name, [(name, value)], id=f"{path}?{name}:{label}"))
            if kind(param_schema) == "comma":
                twice = [(name, valid_value(param_schema)), (name, "")]
                cases.append(pytest.param(path, name, twice, id=f"{path}?{name}:repeated_with_empty"))
            else:
                twice = [(name, valid_value(param_schema))] * 2
                cases.append(pytest.param(path, name, twice, id=f"{path}?{name}:repeated"))
    return cases


def list_url(company, path: str, query: list[tuple[str, str]] = ()) -> str:
    """The list's URL in `company` (a path with {sequence_id} or {endpoint_id} gets a sequence or webhook
    endpoint of it), with `query`."""
    if "{sequence_id}" in path:
        path = path.replace("{sequence_id}", str(SequenceFactory(company=company).pk))
    if "{endpoint_id}" in path:
        path = path.replace("{endpoint_id}", str(WebhookEndpointFactory(company=company).pk))
    return f"/api/companies/{company.pk}/{path}" + (f"?{urlencode(query)}" if query else "")


def assert_rejected(api, company, path: str, name: str, query: list[tuple[str, str]]) -> None:
    """400 with the field map naming `name` alone, each message a sentence."""
    response = api.get(list_url(company, path, query))
    assert response.status_code == 400, (query, response.status_code, response.content[:300])
    body = response.json()
    assert list(body) == [name], body
    assert body[name] and all(isinstance(m, str) and m for m in body[name]), body

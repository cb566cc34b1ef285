"""The OpenAPI document as integrators get it from /api/schema/: valid, and every answer documented.

Behaviour behind the documented errors (the `retry_after` of a 429, flat field maps) is checked here
too; schemathesis (tests/reliability/test_schema_fuzz.py) checks the answers against the document and
tests/daylit/test_generated_client.py a client generated from it.
"""

import json

import pytest
import yaml
from openapi_spec_validator import validate

from tests.conftest import company_url
from tests.factories.core import CustomerFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}
CREATES = {
    ("post", "/api/companies/{company_id}/customers"),
    ("post", "/api/companies/{company_id}/invoices"),
    ("post", "/api/companies/{company_id}/sequences"),
    ("post", "/api/companies/{company_id}/sequences/{sequence_id}/steps"),
    ("post", "/api/companies/{company_id}/sequence-enrollments"),
    ("post", "/api/companies/{company_id}/webhook-endpoints"),
    ("post", "/api/companies/{company_id}/invoices/{invoice_id}/promises"),
    ("post", "/api/companies/{company_id}/suppressions"),
    ("post", "/api/companies/{company_id}/invoices/{invoice_id}/disputes"),
}


@pytest.fixture(scope="module")
def document(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


@pytest.mark.parametrize("accept", ["application/vnd.oai.openapi", "application/vnd.oai.openapi+json"])
def test_the_served_document_validates(client, accept):
    response = client.get("/api/schema/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    served = yaml.safe_load(response.content) if accept.endswith("openapi") else json.loads(response.content)
    validate(served)  # raises on the first violation of OpenAPI 3.0
    assert served["openapi"].startswith("3.0")


def test_every_operation_has_its_own_summary_and_description(document):
    summaries = []
    for method, path, operation in operations(document):
        assert operation.get("summary"), (method, path)
        assert len(operation.get("description", "")) > 40, (method, path)
        assert "Base for views" not in operation["description"], (method, path)
        summaries.append(operation["summary"])
    assert len(summaries) == len(set(summaries)) >= 40


def test_every_error_has_a_body_of_the_two_error_components(document):
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema in (ERROR, VALIDATION_ERROR, {"oneOf": [ERROR, VALIDATION_ERROR]}), (
                method,
                path,
                status,
            )
            assert response["description"], (method, path, status)


def test_company_routes_declare_401_404_429_503_and_bodies_and_filters_400(document):
    for method, path, operation in operations(document):
        statuses = set(operation["responses"])
        if path.startswith("/api/companies/"):
            assert {"401", "404", "406", "429", "503"} <= statuses, (method, path)
            assert "`contention`" in operation["responses"]["503"]["description"], (method, path)
            assert ("415" in statuses) == ("requestBody" in operation), (method, path)
            assert operation["security"] == [{"tokenAuth": []}]
        has_input = "requestBody" in operation or any(
            p["in"] == "query" for p in operation.get("parameters", [])
        )
        assert "400" in statuses or not has_input, (method, path)
        for status in ("429", "503"):
            waiting = operation["responses"].get(status, {"headers": {"Retry-After": 1}})
            assert "Retry-After" in waiting["headers"], (method, path, status)


def test_creates_answer_201_and_only_creates_do(document):
    created = {(method, path) for method, path, op in operations(document) if "201" in op["responses"]}
    # The OAuth callback answers 201 when it connects a new mailbox, 200 when it reconnects one.
    assert created == CREATES | {("get", "/api/nylas/callback")}


def test_response_fields_are_required_and_requests_stay_optional(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["Customer"]["required"]) == {
        "id",
        "name",
        "email",
        "ar_owner_id",
        "timezone",
        "country",
        "subdivision",
        "created_at",
    }
    assert set(schemas["CompanySettings"]["required"]) == {
        "country",
        "subdivision",
        "promise_grace_days",
        "min_hours_between_emails",
    }
    assert {"currency", "status", "paid_at"} <= set(schemas["Invoice"]["required"])
    assert {"step_type", "label", "offset_days", "offset_time"} <= set(schemas["Step"]["required"])
    assert schemas["CustomerRequest"]["required"] == ["name"]
    assert "required" not in schemas["PatchedCustomerRequest"]
    assert "format" not in schemas["Customer"]["properties"]["email"]  # "" is an answer too


def test_filters_are_typed(document):
    def params(path):
        operation = document["paths"][f"/api/companies/{{company_id}}/{path}"]["get"]
        return {p["name"]: p for p in operation["parameters"]}

    status = params("invoices")["status"]
    assert status["schema"]["type"] == "array" and (status["style"], status["explode"]) == ("form", False)
    assert status["schema"]["items"]["enum"] == ["open", "paid", "void"]
    assert params("sequence-enrollments")["status"]["schema"]["items"]["enum"] == [
        "active",
        "paused",
        "completed",
    ]
    assert params("sequence-enrollments")["customer_id"]["schema"]["format"] == "uuid"
    queue = params("sequences/queue")
    assert queue["category"]["schema"]["enum"] == ["ready", "upcoming", "history"]
    assert queue["ar_owner"]["schema"]["items"]["pattern"].startswith("^(?:__unassigned__|")
    assert queue["ar_owner"]["description"]


def test_a_throttled_answer_carries_retry_after_in_header_and_body(api, company, settings):
    settings.API_THROTTLE_RATE = "1/min"
    assert api.get(company_url(company, "customers")).status_code == 200
    throttled = api.get(company_url(company, "customers"))
    assert throttled.status_code == 429
    body = throttled.json()
    assert body["code"] == "throttled" and 0 < body["retry_after"] <= 60
    assert int(throttled["Retry-After"]) == body["retry_after"]


def test_errors_inside_a_list_are_flat_and_name_the_item(api, company):
    sequence = SequenceFactory(company=company, status="active")
    SequenceStepFactory(sequence=sequence)
    good = str(CustomerFactory(company=company).pk)
    url = company_url(company, f"sequences/{sequence.pk}/enrollments/bulk")
    response = api.post(url, {"customer_ids": [good, "nope", good, "123"]}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "customer_ids": ["Item 1: Must be a valid UUID.", "Item 3: Must be a valid UUID."]
    }


def test_an_empty_string_for_a_nullable_id_is_refused_not_read_as_null(api, company):
    response = api.post(company_url(company, "customers"), {"name": "Acme", "ar_owner_id": ""}, format="json")
    assert response.status_code == 400
    assert response.json() == {"ar_owner_id": ["Must be a valid UUID."]}
    assert (
        api.post(
            company_url(company, "customers"), {"name": "Acme", "ar_owner_id": None}, format="json"
        ).status_code
        == 201
    )


def test_a_body_that_is_not_json_is_415_and_an_accept_that_is_not_json_406(api, company):
    url = company_url(company, "customers")
    form = api.post(url, "name=Acme", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and form.json()["code"] == "unsupported_media_type"
    html = api.get(url, HTTP_ACCEPT="text/html")
    assert html.status_code == 406 and html.json()["code"] == "not_acceptable"


def test_company_settings_document_who_may_change_them_and_their_codes_and_ranges(document):
    operations_ = document["paths"]["/api/companies/{company_id}/settings"]
    assert operations_["get"]["tags"] == operations_["patch"]["tags"] == ["companies"]
    assert "403" not in operations_["get"]["responses"]
    forbidden = operations_["patch"]["responses"]["403"]
    assert (
        "`admin_only`" in forbidden["description"]
        and forbidden["content"]["application/json"]["schema"] == ERROR
    )
    schemas = document["components"]["schemas"]
    grace = schemas["PatchedCompanySettingsRequest"]["properties"]["promise_grace_days"]
    assert (grace["type"], grace["minimum"], grace["maximum"]) == ("integer", 0, 30)
    hours = schemas["CompanySettings"]["properties"]["min_hours_between_emails"]
    assert (hours["minimum"], hours["maximum"]) == (0, 720)
    assert {"GB", "DE", "US", "AU", "JP"} <= set(schemas["CountryEnum"]["enum"])
    assert not {"UK", "gb", "GBR"} & set(schemas["CountryEnum"]["enum"])
    for name in ("Customer", "CompanySettings"):
        country = schemas[name]["properties"]["country"]
        assert country["nullable"] and "* `" not in country["description"]  # no list of 250 codes

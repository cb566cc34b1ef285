"""Every company-scoped endpoint, every method, as a member of another company: nothing leaks, nothing moves.

Routes are discovered from the URL resolver, so a new endpoint is covered without editing this file
(a new path parameter name must be added to PATH_IDS: the test fails until it is). Three attacks:

- A's company in the path (the attacker is not a member): 404 for every method.
- The attacker's own company in the path, A's object ids in the path: 404 (or 400) for every method.
- The attacker's own company and objects in the path, A's ids in the body and the query string: any
  answer but a 5xx, and never one of A's ids in it.

After all of them, every row that belongs to A (by company, or through its parent) is unchanged and A
has no new rows.
"""

import json
import re

import pytest
import responses
from django.apps import apps
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from daylit.models import Company, Member
from daylit.services import api_token_issue
from tests.factories.core import CompanyFactory, MemberFactory
from tests.reliability.seed import Seeded, seed_company
from tests.routes import url_patterns

pytestmark = pytest.mark.django_db

PREFIX = "api/companies/<uuid:company_id>/"
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
# Path parameter -> key in Seeded.ids.
PATH_IDS = {
    "company_id": "company_id",
    "customer_id": "customer_id",
    "invoice_id": "invoice_id",
    "connection_id": "connection_id",
    "sequence_id": "sequence_id",
    "step_id": "step_id",
    "enrollment_id": "enrollment_id",
    "row_id": "row_id",
    "endpoint_id": "webhook_endpoint_id",
    "delivery_id": "webhook_delivery_id",
    "promise_id": "promise_id",
    "dispute_id": "dispute_id",
    "reply_id": "reply_id",
    "email": "email",
}
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
OUR_APPS = ("daylit", "events", "connections", "sequences", "enrollments", "queue")


def company_routes() -> list[tuple[str, list[str]]]:
    """(route template, methods its view implements) for every pattern under PREFIX."""
    found = []
    for route, entry in url_patterns():
        if route.startswith(PREFIX):
            view = getattr(entry.callback, "view_class", None) or getattr(entry.callback, "cls", None)
            found.append((route, [m for m in METHODS if view is not None and hasattr(view, m)]))
    return sorted(found)


def fill(route: str, ids: dict[str, str]) -> str:
    def value(match):
        name = match.group(1)
        assert name in PATH_IDS, f"new path parameter {name!r}: map it to a seeded object in PATH_IDS"
        return ids[PATH_IDS[name]]

    return "/" + PARAM.sub(value, route)


def hostile_body(victim: Seeded) -> dict:
    """Plausible fields for every endpoint, with every id-valued field pointing into the victim company."""
    v = victim.ids
    return {
        "customer_id": v["customer_id"],
        "customer_ids": [v["customer_id"]],
        "sequence_id": v["sequence_id"],
        "invoice_id": v["invoice_id"],
        "sender_connection_id": v["connection_id"],
        "duplicate_from": v["sequence_id"],
        "ar_owner_id": v["member_id"],
        "member_id": v["member_id"],
        "step_id": v["step_id"],
        "enrollment_id": v["enrollment_id"],
        "connection_id": v["connection_id"],
        "company_id": v["company_id"],
        "name": "Tenant probe",
        "email": "probe@example.com",
        "action": "archive",
        "step_type": "reminder",
        "label": "probe",
        "offset_days": 1,
        "subject": "probe",
        "to_email": "probe@example.com",
        "notes": "probe",
        "number": "INV-PROBE",
        "currency": "USD",
        "amount_due": "1.00",
        "issue_date": "2026-01-01",
        "due_date": "2026-02-01",
        "status": "paid",
        "stop_reason": "probe",
        "timezone": "UTC",
        "allow_shared_sending": True,
        "promised_date": "2030-01-01",
        "amount": "1.00",
        "reason": "other",
        "resolution": "upheld",
        "payment_url": "https://pay.example/probe",
    }


def hostile_query(victim: Seeded) -> str:
    v = victim.ids
    names = ("customer_id", "sequence_id", "invoice_id", "enrollment_id", "step_id")
    params = [f"{n}={v[n]}" for n in names] + [f"ar_owner={v['member_id']}"]
    return "?" + "&".join(params)


def owned_querysets(company: Company) -> dict[str, object]:
    """For every model of our apps (and users), the rows that belong to `company`."""
    users = get_user_model().objects.filter(pk__in=Member.objects.filter(company=company).values("user_id"))
    owned = {"auth.User": users}
    pending = [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]
    while pending:
        progressed = False
        for model in list(pending):
            qs = _owned_by(model, company, owned)
            if qs is not None:
                owned[model._meta.label] = qs
                pending.remove(model)
                progressed = True
        assert progressed, f"cannot tell which rows of {pending} belong to a company"
    return owned


def _owned_by(model, company, owned):
    if model is Company:
        return Company.objects.filter(pk=company.pk)
    fields = {f.name: f for f in model._meta.concrete_fields if f.is_relation}
    if "company" in fields:
        return model.objects.filter(company=company)
    if not fields:
        if any(f.attname == "company_id" for f in model._meta.concrete_fields):
            return model.objects.filter(company_id=company.pk)  # a company's, without a foreign key
        return model.objects.all()  # global rows (e.g. webhook deliveries): none may change either
    for name, f in fields.items():
        target = f.related_model._meta.label
        if target in owned:
            return model.objects.filter(**{f"{name}__in": owned[target].values("pk")})
    return None


def snapshot(company: Company) -> dict[str, dict]:
    return {
        label: {
            row["pk"]: row for row in qs.values("pk", *[f.attname for f in qs.model._meta.concrete_fields])
        }
        for label, qs in owned_querysets(company).items()
    }


def client_for(member: Member) -> APIClient:
    _, key = api_token_issue(user=member.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def call(client: APIClient, method: str, url: str, body: dict | None):
    if method in ("get", "head", "options", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def victim_markers(victim: Seeded, attacker: Seeded) -> set[str]:
    """Values only the victim's rows hold: every id of theirs, names, emails, invoice numbers. A value
    the attacker's own rows also contain (Faker's "Thomas" in a victim user's and an attacker customer's
    name) proves nothing when it shows up, so it is no marker."""
    markers = set()
    for label, rows in snapshot(victim.company).items():
        for row in rows.values():
            for key, value in row.items():
                identifying = key in ("pk", "id") or key.endswith(("email", "name", "number", "grant_id"))
                if identifying and value and len(str(value)) >= 6 and label != "daylit.Company":
                    markers.add(str(value))
    own = " ".join(
        str(value)
        for rows in snapshot(attacker.company).values()
        for row in rows.values()
        for value in row.values()
    )
    return {marker for marker in markers if marker not in own}


def leaked(response, markers: set[str], sent: str) -> set[str]:
    """Victim values in the answer that the caller did not send itself (echoing input is no leak)."""
    text = response.content.decode(errors="replace")
    return {value for value in markers if value in text and value not in sent}


@pytest.fixture
def victim(company, member) -> Seeded:
    return seed_company(company=company, member=member)


@pytest.fixture
def attacker() -> Seeded:
    company = CompanyFactory(name="Attacker Co")
    return seed_company(company=company, member=MemberFactory(company=company))


def test_routes_are_discovered():
    routes = dict(company_routes())
    assert len(routes) >= 20
    assert "post" in routes[PREFIX + "sequences/queue/<uuid:row_id>/send"]
    assert "delete" in routes[PREFIX + "sequences/<uuid:sequence_id>/steps/<uuid:step_id>"]


@responses.activate
def test_another_company_can_neither_see_nor_change_anything(victim, attacker, settings):
    settings.API_THROTTLE_RATE = "off"
    settings.API_SEND_THROTTLE_RATE = "off"
    # Nylas configured (hosted-auth start answers 503 otherwise), its grant deletion intercepted.
    settings.NYLAS_API_KEY = "test-nylas-key"
    settings.NYLAS_API_URI = "https://nylas.invalid"
    responses.add(responses.DELETE, re.compile(r"https://nylas\.invalid/.*"), json={"request_id": "r"})
    before = snapshot(victim.company)
    markers = victim_markers(victim, attacker)
    client = client_for(attacker.member)
    body = hostile_body(victim)
    sent_body = json.dumps(body)
    failures = []
    calls = 0

    for route, methods in company_routes():
        has_object_ids = len(PARAM.findall(route)) > 1
        for method in methods:
            # 1. The victim's company and objects in the path: the company does not exist for the caller.
            response = call(client, method, fill(route, victim.ids), body)
            calls += 1
            if response.status_code != 404:
                failures.append(f"{method.upper()} {route} (victim company): {response.status_code}")
            # 2. Own company, the victim's object ids in the path.
            if has_object_ids:
                mixed = dict(victim.ids, company_id=attacker.ids["company_id"])
                response = call(client, method, fill(route, mixed), body)
                calls += 1
                # OPTIONS describes the endpoint without reading the object: same answer for any id.
                if response.status_code not in (400, 404) and method != "options":
                    failures.append(f"{method.upper()} {route} (victim ids): {response.status_code}")
                if found := leaked(response, markers, fill(route, mixed) + sent_body):
                    failures.append(f"{method.upper()} {route} (victim ids) leaked {found}")
            # 3. Own company and objects, the victim's ids in body and query.
            url = fill(route, attacker.ids) + (hostile_query(victim) if method == "get" else "")
            response = call(client, method, url, body)
            calls += 1
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {route} (victim ids in body): {response.status_code}")
            if found := leaked(response, markers, url + sent_body):
                failures.append(f"{method.upper()} {route} (body) leaked {found}")

    assert calls > 60
    assert not failures, "\n".join(failures)
    after = snapshot(victim.company)
    for label in before:
        assert after[label] == before[label], f"{label} rows of the victim company changed"


def test_snapshot_sees_a_change(victim):
    """The guard itself can fail: a changed, added or deleted victim row shows up."""
    from daylit.models import Customer

    before = snapshot(victim.company)
    Customer.objects.filter(pk=victim.ids["customer_id"]).update(name="changed")
    assert snapshot(victim.company)["daylit.Customer"] != before["daylit.Customer"]
    assert json.dumps(sorted(before))  # every label is a plain string

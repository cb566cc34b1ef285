"""Schema fuzzing: schemathesis drives every operation of our own OpenAPI schema through the WSGI app.

As a member of a seeded company (customers, invoices, a sender, an active sequence with steps,
enrollments, ready rows), with path ids pointed at real objects most of the time, in schemathesis's
positive and negative modes with all its default checks: every answer is a non-5xx with a documented
status, content type, headers and body schema, valid input is accepted and invalid input refused.
Nylas is the fake Nylas server on 127.0.0.1.
"""

import datetime
import re
from urllib.parse import parse_qs, urlparse

import pytest
import responses
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from connections import oauth
from daylit.calendar_codes import subdivisions_of
from daylit.services import SUBDIVISION_MAX_LENGTH, api_token_issue
from daylit.wsgi import application
from tests.factories.events import PUBLIC_URL
from tests.fakes.nylas import FakeNylas
from tests.reliability.seed import seed_company
from tests.servers import wsgi_in_the_test_transaction

EXAMPLES_PER_OPERATION = 25
# Path parameter -> key in Seeded.ids (see tests/reliability/seed.py).
REAL_IDS = {
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
}
# Body field -> key in Seeded.ids: a valid body names objects that exist (a random id is a 400).
REAL_BODY_IDS = {
    "customer_id": "customer_id",
    "invoice_id": "invoice_id",
    "sequence_id": "sequence_id",
    "sender_connection_id": "connection_id",
    "ar_owner_id": "member_id",
    "duplicate_from": "sequence_id",
}
OAUTH_CALLBACK = "/api/nylas/callback"
NYLAS_TOKEN = {
    "access_token": "at-secret",
    "grant_id": "grant-fuzz",
    "expires_in": 3600,
    "email": "fuzz@seller.example",
    "provider": "google",
    "token_type": "Bearer",
    "scope": "email",
}

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def fuzz_world(db, company, member, settings):
    settings.API_THROTTLE_RATE = "off"
    settings.API_SEND_THROTTLE_RATE = "off"
    fake = FakeNylas().start()
    settings.NYLAS_API_KEY = "test-nylas-key"
    settings.NYLAS_API_URI = fake.url
    settings.NYLAS_TIMEOUT_SECONDS = 5
    seeded = seed_company(company=company, member=member)
    _, key = api_token_issue(user=member.user)
    try:
        with (
            wsgi_in_the_test_transaction(),
            responses.RequestsMock(assert_all_requests_are_fired=False) as nylas,
        ):
            # Sends reach the fake Nylas server; grant deletion (which it does not serve) is answered here.
            grants = re.compile(re.escape(fake.url) + r"/v3/grants/[^/]+$")
            nylas.add(responses.DELETE, grants, json={"request_id": "r"})
            nylas.add(responses.POST, f"{fake.url}/v3/connect/token", json=NYLAS_TOKEN)
            nylas.add_passthru(fake.url)
            yield seeded, {"Authorization": f"Token {key}"}
    finally:
        fake.stop()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_its_schema(case, fuzz_world):
    seeded, auth = fuzz_world
    # What schemathesis made invalid on purpose stays invalid; the rest is pointed at real objects.
    negative = {
        location for location in ParameterLocation if case.meta and case.meta.is_negative_at(location)
    }
    if ParameterLocation.PATH not in negative and case.path_parameters:
        case.path_parameters = real_path_ids(case.path_parameters, seeded)
    if ParameterLocation.BODY not in negative and isinstance(case.body, dict):
        case.body = real_body_ids(case.body, seeded)
    if ParameterLocation.HEADER not in negative:
        case.headers = {**(case.headers or {}), **auth}
    if ParameterLocation.QUERY not in negative and "after" in (case.query or {}):
        case.query = {**case.query, "after": seeded.ids["event_id"]}  # a cursor must be a real event
    if ParameterLocation.QUERY not in negative and case.query:
        # The preview's customer and invoice must be the company's (and the invoice the customer's).
        for name in ("customer_id", "invoice_id"):
            if isinstance(case.query.get(name), str) and case.path.endswith("/preview"):
                case.query = {**case.query, name: seeded.ids[REAL_BODY_IDS[name]]}
    if ParameterLocation.QUERY not in negative and case.path.endswith("/performance") and case.query:
        case.query = date_range(case.query)
    if case.path == OAUTH_CALLBACK and ParameterLocation.QUERY not in negative:
        # A valid callback carries a state this server signed (once); Nylas's token answer is mocked.
        case.query = {**(case.query or {}), "state": fresh_oauth_state(seeded.member)}
        if "error" in case.query:
            # Nylas reporting a refusal is valid input that the callback answers 400 `oauth_denied`.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])
            return
    case.call_and_validate()


def fresh_oauth_state(member) -> str:
    url = oauth.oauth_start(member=member)
    return parse_qs(urlparse(url).query)["state"][0]


def real_path_ids(params: dict, seeded) -> dict:
    params = dict(params)
    if "company_id" in params:
        params["company_id"] = seeded.ids["company_id"]
    for name, value in params.items():
        # Three in four cases use a real object; the rest keep the generated id (the 404 path).
        if name in REAL_IDS and str(value)[:1] not in "cdef":
            params[name] = seeded.ids[REAL_IDS[name]]
    return params


def date_range(query: dict) -> dict:
    """`from` <= `to` (a rule across parameters JSON Schema does not hold); `from` alone must not be
    after today, the default `to`: both are sent, in order."""
    dates = sorted(query[name] for name in ("from", "to") if isinstance(query.get(name), str))
    if not dates:
        return query
    return {**query, "from": dates[0], "to": dates[-1]}


UNSENT = object()


def calendar_pair(country, subdivision) -> dict:
    """A subdivision is a code of its country, checked with the stored pair (a rule across fields and
    requests JSON Schema does not hold): a string becomes a real subdivision of the country sent (GB
    when none is), and a new country without a subdivision clears the stored one."""
    if isinstance(subdivision, str):
        country = country if isinstance(country, str) else "GB"
        codes = (code for code in subdivisions_of(country) if len(code) <= SUBDIVISION_MAX_LENGTH)
        return {"country": country, "subdivision": next(codes, None)}
    return {"subdivision": None} if subdivision is UNSENT else {}


def step_experiment(body: dict) -> dict:
    """A step's variants are 0 or 2..4 with unique keys other than "holdout", each with a body, and only
    a reminder runs an experiment (rules across items and fields JSON Schema does not hold)."""
    if body.get("step_type", "reminder") != "reminder":
        return {"variants": [], "holdout_percent": 0}
    variants = body.get("variants")
    if not isinstance(variants, list):
        return {}
    if len(variants) < 2 or not all(isinstance(variant, dict) for variant in variants):
        return {"variants": []}
    fixed = []
    for index, variant in enumerate(variants):
        variant = {**variant, "key": f"v{index}"}
        if not str(variant.get("body_plain_template", "")).strip():
            variant["body_plain_template"] = "Hello"
        fixed.append(variant)
    return {"variants": fixed}


def real_body_ids(body: dict, seeded) -> dict:
    body = dict(body)
    for name, key in REAL_BODY_IDS.items():
        if isinstance(body.get(name), str):
            body[name] = seeded.ids[key]
    dates = sorted(body[name] for name in ("issue_date", "due_date") if isinstance(body.get(name), str))
    if dates:
        # An invoice is due on or after its issue date (a rule across fields JSON Schema does not hold).
        body["issue_date"], body["due_date"] = dates[0], dates[-1]
    if isinstance(body.get("offset_days"), int) and body["offset_days"] < 0:
        # Before the anchor only in an invoice_due sequence; the seeded one counts from enrollment.
        body["offset_days"] = -body["offset_days"]
    if "send_window_start" in body or "send_window_end" in body:
        # A send window is both ends or neither, start before end (across fields, like the dates above).
        ends = sorted({body[name] for name in ("send_window_start", "send_window_end") if body.get(name)})
        if len(ends) == 2:
            body["send_window_start"], body["send_window_end"] = ends
        else:
            body.pop("send_window_start", None), body.pop("send_window_end", None)
    if isinstance(body.get("variants"), list) or "holdout_percent" in body:
        body.update(step_experiment(body))
    if isinstance(body.get("timezone"), str):
        body["timezone"] = "America/Chicago"  # the IANA names are a list JSON Schema does not hold
    if "country" in body or isinstance(body.get("subdivision"), str):
        body.update(calendar_pair(body.get("country"), body.get("subdivision", UNSENT)))
    if isinstance(body.get("url"), str):
        # A webhook URL must be https to a public address (JSON Schema's `uri` is any scheme).
        body["url"] = PUBLIC_URL
    if isinstance(body.get("payment_url"), str):
        body["payment_url"] = "https://pay.example/invoice/1"  # https only (JSON Schema's `uri` is any)
    if isinstance(body.get("promised_date"), str):
        # Today (UTC) to a year ahead, and at most the invoice's amount_due: rules of the day and the row.
        body["promised_date"] = timezone.now().astimezone(datetime.UTC).date().isoformat()
    if isinstance(body.get("until"), str):
        # A pause ends in the future, given as a date or a date-time with its offset.
        body["until"] = (timezone.now() + datetime.timedelta(days=7)).date().isoformat()
    if body.get("classification") == "promise" and not isinstance(body.get("promised_date"), str):
        body["promised_date"] = timezone.now().astimezone(datetime.UTC).date().isoformat()  # a promise's day
    if isinstance(body.get("amount"), str):
        body["amount"] = "1.00"
    if isinstance(body.get("customer_ids"), list):
        body["customer_ids"] = [seeded.ids["customer_id"]] * min(len(body["customer_ids"]), 1)
    return body

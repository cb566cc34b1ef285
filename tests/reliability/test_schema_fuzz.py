"""Schema fuzzing: schemathesis drives every operation of our own OpenAPI schema through the WSGI app.

As a member of a seeded company (customers, invoices, a sender, an active sequence with steps,
enrollments, ready rows), with path ids pointed at real objects most of the time. Every answer must be
a non-5xx, have a documented content type, and match the documented schema for its status. Unknown
statuses (400/401/404/409 are not all listed per operation) are not a failure here: the error shape is
checked in each app's tests. Nylas is the fake Nylas server on 127.0.0.1.
"""

import re

import pytest
import responses
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from daylit.services import api_token_issue
from daylit.wsgi import application
from tests.fakes.nylas import FakeNylas
from tests.reliability.seed import seed_company

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Path parameter -> key in Seeded.ids (see tests/reliability/seed.py).
REAL_IDS = {
    "customer_id": "customer_id",
    "invoice_id": "invoice_id",
    "connection_id": "connection_id",
    "sequence_id": "sequence_id",
    "step_id": "step_id",
    "enrollment_id": "enrollment_id",
    "row_id": "row_id",
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
    # Like Django's test client: the WSGI handler must not close the test transaction's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as nylas:
            # Sends reach the fake Nylas server; grant deletion (which it does not serve) is answered here.
            grants = re.compile(re.escape(fake.url) + r"/v3/grants/[^/]+$")
            nylas.add(responses.DELETE, grants, json={"request_id": "r"})
            nylas.add_passthru(fake.url)
            yield seeded, {"Authorization": f"Token {key}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
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
    seeded, headers = fuzz_world
    params = case.path_parameters or {}
    if "company_id" in params:
        params["company_id"] = seeded.ids["company_id"]
    for name, value in params.items():
        # Three in four cases use a real object; the rest keep the generated id (the 404 path).
        if name in REAL_IDS and str(value)[:1] not in "cdef":
            params[name] = seeded.ids[REAL_IDS[name]]
    case.call_and_validate(headers=headers, checks=CHECKS)

"""The event list and the customer and enrollment timelines, as an integrator reads them."""

import uuid

import pytest

from enrollments.payloads import ENROLLMENT, QUEUE_ROW
from events.services import events_record
from events.types import ENROLLMENT_COMPLETED, ENROLLMENT_CREATED, QUEUE_ROW_CANCELLED
from tests.conftest import company_url
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_enrollments(company):
    sequence = SequenceFactory(company=company, status="active")
    first, second = EnrollmentFactory.create_batch(2, sequence=sequence)
    events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[first.id, second.id])
    events_record(type=ENROLLMENT_COMPLETED, subject_type=ENROLLMENT, ids=[first.id])
    return first, second


def walk(api, url, **query):
    """Every event the cursor list gives, page by page."""
    seen, after = [], None
    while True:
        params = {**query, **({"after": after} if after else {})}
        response = api.get(url, params)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert set(body) == {"data", "has_more"}
        seen += body["data"]
        if not body["has_more"]:
            return seen
        after = body["data"][-1]["id"]


def test_the_company_list_is_oldest_first_in_the_documented_shape(api, company, two_enrollments):
    first, second = two_enrollments
    events = walk(api, company_url(company, "events"), limit=1)
    assert [(e["type"], e["subject"]["id"]) for e in events] == [
        (ENROLLMENT_CREATED, str(first.id)),
        (ENROLLMENT_CREATED, str(second.id)),
        (ENROLLMENT_COMPLETED, str(first.id)),
    ]
    event = events[0]
    assert set(event) == {"id", "type", "occurred_at", "company_id", "subject", "data"}
    assert event["subject"] == {"type": "enrollment", "id": str(first.id)}
    assert event["company_id"] == str(company.id) and event["data"]["id"] == str(first.id)


def test_filters_by_type_and_subject(api, company, two_enrollments):
    first, _ = two_enrollments
    url = company_url(company, "events")
    completed = api.get(url, {"type": ENROLLMENT_COMPLETED}).json()["data"]
    assert [e["subject"]["id"] for e in completed] == [str(first.id)]
    about_first = api.get(url, {"subject_id": str(first.id)}).json()["data"]
    assert [e["type"] for e in about_first] == [ENROLLMENT_CREATED, ENROLLMENT_COMPLETED]
    both = api.get(url, {"type": f"{ENROLLMENT_CREATED},{ENROLLMENT_COMPLETED}"}).json()["data"]
    assert len(both) == 3


def test_timelines_keep_one_customer_or_enrollment_with_its_rows(api, company, two_enrollments):
    first, second = two_enrollments
    row = ScheduledStepFactory(enrollment=first)
    events_record(type=QUEUE_ROW_CANCELLED, subject_type=QUEUE_ROW, ids=[row.id])
    customer = walk(api, company_url(company, f"customers/{second.customer_id}/events"))
    assert [(e["type"], e["subject"]["id"]) for e in customer] == [(ENROLLMENT_CREATED, str(second.id))]
    enrollment = walk(api, company_url(company, f"sequence-enrollments/{first.id}/events"))
    assert [e["type"] for e in enrollment] == [ENROLLMENT_CREATED, ENROLLMENT_COMPLETED, QUEUE_ROW_CANCELLED]
    first_customer = walk(api, company_url(company, f"customers/{first.customer_id}/events"))
    assert [e["subject"]["id"] for e in first_customer] == [str(first.id), str(first.id), str(row.id)]


def test_an_unknown_cursor_and_bad_limits_are_400(api, company, two_enrollments, other_company):
    url = company_url(company, "events")
    unknown = api.get(url, {"after": str(uuid.uuid4())})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_cursor"
    for limit in ("0", "101", "x", ""):
        assert list(api.get(url, {"limit": limit}).json()) == ["limit"]
    assert list(api.get(url, {"type": "enrollment.exploded"}).json()) == ["type"]


def test_another_companys_timelines_and_cursors_are_not_found(api, company, other_company):
    foreign = EnrollmentFactory(sequence=SequenceFactory(company=other_company, status="active"))
    events_record(type=ENROLLMENT_CREATED, subject_type=ENROLLMENT, ids=[foreign.id])
    assert api.get(company_url(company, f"sequence-enrollments/{foreign.id}/events")).status_code == 404
    assert api.get(company_url(company, f"customers/{foreign.customer_id}/events")).status_code == 404
    assert api.get(company_url(company, "events")).json()["data"] == []
    foreign_event = api.get(company_url(other_company, "events"))
    assert foreign_event.status_code == 404  # not a member there


def test_a_ping_whose_data_is_an_endpoint_is_listed_for_admins_only(api, company, member):
    from daylit.models import Member
    from tests.factories.events import WebhookEndpointFactory

    endpoint = WebhookEndpointFactory(company=company, url="https://hooks.example/in?token=s3cret")
    assert api.post(company_url(company, f"webhook-endpoints/{endpoint.id}/ping")).status_code == 202
    url = company_url(company, "events")
    assert [e["type"] for e in api.get(url).json()["data"]] == ["webhook.ping"]
    Member.objects.filter(pk=member.pk).update(role=Member.Role.MEMBER)
    assert api.get(url).json()["data"] == []
    assert api.get(url, {"subject_id": str(endpoint.id)}).json()["data"] == []

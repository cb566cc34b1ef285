"""Webhook endpoints and deliveries through the API, as a company admin (and as a plain member: 403)."""

import datetime
import uuid

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from daylit.models import Member
from events.api.webhook_serializers import WebhookEndpointSerializer
from events.models import Event, WebhookDelivery, WebhookEndpoint
from events.types import ENROLLMENT_CREATED, QUEUE_ROW_SENT, WEBHOOK_PING
from tests.conftest import company_url
from tests.events.helpers import as_api_json
from tests.factories.events import PUBLIC_URL, WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status
SHAPE = {"id", "url", "description", "event_types", "enabled", "disabled_reason", "created_at"}
DELIVERY_SHAPE = {
    "id",
    "event_id",
    "event_type",
    "status",
    "attempts",
    "last_attempt_at",
    "last_status_code",
    "last_error",
    "next_attempt_at",
}


def url(company, path: str = "") -> str:
    return company_url(company, f"webhook-endpoints{path}")


def every_route(company, endpoint_id, delivery_id) -> list[tuple[str, str]]:
    one = f"/{endpoint_id}"
    return [
        ("get", url(company)),
        ("post", url(company)),
        ("get", url(company, one)),
        ("patch", url(company, one)),
        ("delete", url(company, one)),
        ("post", url(company, f"{one}/rotate-secret")),
        ("post", url(company, f"{one}/ping")),
        ("get", url(company, f"{one}/deliveries")),
        ("post", company_url(company, f"webhook-deliveries/{delivery_id}/retry")),
    ]


# --- who may -------------------------------------------------------------------------------------------


def test_a_plain_member_is_403_admin_only_on_every_route_and_nothing_changes(api, company, member):
    Member.objects.filter(pk=member.pk).update(role=Member.Role.MEMBER)
    endpoint = WebhookEndpointFactory(company=company)
    delivery = WebhookDeliveryFactory(endpoint=endpoint, status=Status.FAILED, next_attempt_at=None)
    for method, path in every_route(company, endpoint.id, delivery.id):
        response = getattr(api, method)(path, {"url": PUBLIC_URL}, format="json")
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "admin_only"
    # Not even an id that does not exist is looked up first.
    assert api.get(url(company, f"/{uuid.uuid4()}")).status_code == 403
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
    assert Event.objects.count() == 1 and WebhookDelivery.objects.get().status == Status.FAILED


def test_no_token_is_401_and_another_company_is_404(anon, outsider_api, company):
    endpoint = WebhookEndpointFactory(company=company)
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    for method, path in every_route(company, endpoint.id, delivery.id):
        assert getattr(anon, method)(path, {}, format="json").status_code == 401, (method, path)
        assert getattr(outsider_api, method)(path, {}, format="json").status_code == 404, (method, path)


def test_ids_of_another_company_are_404(api, company, other_company):
    theirs = WebhookEndpointFactory(company=other_company)
    their_delivery = WebhookDeliveryFactory(endpoint=theirs)
    for method, path in every_route(company, theirs.id, their_delivery.id)[2:]:
        response = getattr(api, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path)
    theirs.refresh_from_db()
    assert theirs.enabled and WebhookEndpoint.objects.count() == 1


# --- CRUD ----------------------------------------------------------------------------------------------


def test_create_returns_the_secret_once(api, company):
    response = api.post(
        url(company),
        {"url": PUBLIC_URL, "description": "ERP sync", "event_types": [ENROLLMENT_CREATED]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == SHAPE | {"secret"}
    assert body["secret"].startswith("whsec_") and len(body["secret"]) >= len("whsec_") + 32
    Webhook(body["secret"])  # the standardwebhooks package accepts it
    assert body["event_types"] == [ENROLLMENT_CREATED] and body["enabled"] is True
    assert body["disabled_reason"] is None and body["description"] == "ERP sync"
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"]

    # Never again: the detail, the list and a PATCH answer show no secret.
    detail = api.get(url(company, f"/{endpoint.id}")).json()
    assert set(detail) == SHAPE
    assert [set(e) for e in api.get(url(company)).json()["data"]] == [SHAPE]
    patched = api.patch(url(company, f"/{endpoint.id}"), {"description": "x"}, format="json").json()
    assert set(patched) == SHAPE
    assert body["secret"] not in str(api.get(url(company)).content)


def test_secrets_differ_and_event_types_default_to_everything(api, company):
    first = api.post(url(company), {"url": PUBLIC_URL}, format="json").json()
    second = api.post(url(company), {"url": PUBLIC_URL}, format="json").json()
    assert first["secret"] != second["secret"]
    assert first["event_types"] == ["*"]


@pytest.mark.parametrize(
    "event_types, stored",
    [
        (["*"], ["*"]),
        (["*", ENROLLMENT_CREATED], ["*"]),
        ([QUEUE_ROW_SENT, ENROLLMENT_CREATED, QUEUE_ROW_SENT], [QUEUE_ROW_SENT, ENROLLMENT_CREATED]),
    ],
)
def test_event_types_are_normalised(api, company, event_types, stored):
    response = api.post(url(company), {"url": PUBLIC_URL, "event_types": event_types}, format="json")
    assert response.status_code == 201 and response.json()["event_types"] == stored


@pytest.mark.parametrize(
    "event_types, field_error",
    [
        (["enrollment.exploded"], 'Item 0: "enrollment.exploded" is not a valid choice.'),
        ([], "Ensure this field has at least 1 elements."),
        ("*", "Expected a list, got a string."),
        ([5], "Item 0: expected a string, got a number."),
    ],
)
def test_unknown_or_empty_event_types_are_400(api, company, event_types, field_error):
    response = api.post(url(company), {"url": PUBLIC_URL, "event_types": event_types}, format="json")
    assert response.status_code == 400
    assert response.json() == {"event_types": [field_error]}
    assert not WebhookEndpoint.objects.exists()


def test_bad_bodies_are_400_field_maps(api, company):
    assert api.post(url(company), {}, format="json").json() == {"url": ["This field is required."]}
    assert api.post(url(company), {"url": "not a url"}, format="json").status_code == 400
    assert api.post(url(company), {"url": PUBLIC_URL, "enabled": "yes"}, format="json").status_code == 400
    long = PUBLIC_URL + "/" + "a" * 2000
    assert list(api.post(url(company), {"url": long}, format="json").json()) == ["url"]


def test_list_is_newest_first_and_paginated(api, company):
    endpoints = [WebhookEndpointFactory(company=company) for _ in range(3)]
    WebhookEndpointFactory()  # another company's
    body = api.get(url(company), {"page_size": 2}).json()
    assert body["count"] == 3 and body["page_size"] == 2
    assert [e["id"] for e in body["data"]] == [str(endpoints[2].id), str(endpoints[1].id)]
    assert body["data"][0] == as_api_json(WebhookEndpointSerializer(endpoints[2]).data)


def test_patch_changes_fields_and_an_empty_body_changes_nothing(api, company):
    endpoint = WebhookEndpointFactory(company=company)
    response = api.patch(
        url(company, f"/{endpoint.id}"),
        {"description": "Billing", "event_types": [QUEUE_ROW_SENT], "url": "https://93.184.215.15/h"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["description"], response.json()["event_types"]) == ("Billing", [QUEUE_ROW_SENT])
    assert response.json()["url"] == "https://93.184.215.15/h"
    same = api.patch(url(company, f"/{endpoint.id}"), {}, format="json")
    assert same.status_code == 200 and same.json() == response.json()
    bad = api.patch(url(company, f"/{endpoint.id}"), {"event_types": ["nope"]}, format="json")
    assert bad.status_code == 400 and list(bad.json()) == ["event_types"]


def test_disabling_ends_pending_deliveries_and_re_enabling_clears_the_failure_history(api, company):
    endpoint = WebhookEndpointFactory(company=company)
    pending = WebhookDeliveryFactory(endpoint=endpoint)
    off = api.patch(url(company, f"/{endpoint.id}"), {"enabled": False}, format="json").json()
    assert off["enabled"] is False and off["disabled_reason"] is None
    pending.refresh_from_db()
    assert pending.status == Status.FAILED and "disabled" in pending.last_error

    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_reason="Every delivery failed for three days", failing_since=now - datetime.timedelta(days=3)
    )
    on = api.patch(url(company, f"/{endpoint.id}"), {"enabled": True}, format="json").json()
    assert on["enabled"] is True and on["disabled_reason"] is None
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.retry_at is None


def test_delete_removes_the_endpoint_and_its_deliveries_not_the_events(api, company):
    endpoint = WebhookEndpointFactory(company=company)
    WebhookDeliveryFactory(endpoint=endpoint)
    response = api.delete(url(company, f"/{endpoint.id}"))
    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert Event.objects.count() == 1
    assert api.get(url(company, f"/{endpoint.id}")).status_code == 404


# --- rotate, ping --------------------------------------------------------------------------------------


def test_rotate_returns_a_new_secret_and_keeps_the_old_one_signing_for_24_hours(api, company):
    endpoint = WebhookEndpointFactory(company=company)
    old = endpoint.secret
    before = timezone.now()
    response = api.post(url(company, f"/{endpoint.id}/rotate-secret"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SHAPE | {"secret"} and body["secret"] != old and body["secret"].startswith("whsec_")
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.previous_secret) == (body["secret"], old)
    overlap = endpoint.previous_secret_expires_at - before
    assert datetime.timedelta(hours=24) <= overlap < datetime.timedelta(hours=24, minutes=1)


def test_ping_sends_a_webhook_ping_to_that_endpoint_alone(api, company, receiver, queue):
    target = WebhookEndpointFactory(company=company, url=receiver.url, event_types=[QUEUE_ROW_SENT])
    receiver.secrets = [target.secret]
    other = WebhookEndpointFactory(company=company, url=receiver.url)  # subscribed to everything
    since = len(queue.sent)
    with queue.capture(execute=True):
        response = api.post(url(company, f"/{target.id}/ping"))
    assert response.status_code == 202, response.json()
    body = response.json()
    assert set(body) == DELIVERY_SHAPE
    assert (body["event_type"], body["status"], body["attempts"]) == (WEBHOOK_PING, "pending", 0)
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.endpoint_id == target.id and str(delivery.id) == body["id"]
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()

    event = Event.objects.get(type=WEBHOOK_PING)
    assert (event.subject_type, event.subject_id, event.company_id) == (
        "webhook_endpoint",
        target.id,
        company.id,
    )
    assert event.data == as_api_json(WebhookEndpointSerializer(target).data)  # no secret in it
    assert target.secret not in str(event.data)

    (delivery_id,) = queue.new_deliveries(since)  # sent now, not on the next sweep
    assert queue.deliver(delivery_id, timezone.now()) == Status.DELIVERED
    (request,) = receiver.received
    assert request.webhook_id == str(event.id) and request.body["type"] == WEBHOOK_PING


def test_ping_of_a_disabled_endpoint_is_409(api, company):
    endpoint = WebhookEndpointFactory(company=company, enabled=False)
    response = api.post(url(company, f"/{endpoint.id}/ping"))
    assert response.status_code == 409 and response.json()["code"] == "endpoint_disabled"
    assert not Event.objects.exists()


# --- deliveries ----------------------------------------------------------------------------------------


def test_deliveries_list_filters_by_status_newest_first(api, company, django_assert_num_queries):
    endpoint = WebhookEndpointFactory(company=company)
    now = timezone.now()
    delivered = WebhookDeliveryFactory(
        endpoint=endpoint,
        status=Status.DELIVERED,
        attempts=1,
        last_status_code=204,
        next_attempt_at=None,
        created_at=now - datetime.timedelta(minutes=3),
    )
    failed = WebhookDeliveryFactory(
        endpoint=endpoint,
        status=Status.FAILED,
        attempts=13,
        last_status_code=500,
        last_error="HTTP 500: no",
        next_attempt_at=None,
        created_at=now - datetime.timedelta(minutes=2),
    )
    pending = WebhookDeliveryFactory(endpoint=endpoint, created_at=now - datetime.timedelta(minutes=1))
    WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(company=company))  # another endpoint's
    path = url(company, f"/{endpoint.id}/deliveries")

    with django_assert_num_queries(6):  # token, its touch, member, endpoint, count, page
        body = api.get(path).json()
    assert [d["id"] for d in body["data"]] == [str(pending.id), str(failed.id), str(delivered.id)]
    first = body["data"][1]
    assert set(first) == DELIVERY_SHAPE
    assert first["event_id"] == str(failed.event.id) and first["event_type"] == failed.event.type
    assert (first["status"], first["attempts"], first["last_status_code"]) == ("failed", 13, 500)
    assert first["last_error"] == "HTTP 500: no" and first["next_attempt_at"] is None
    assert body["data"][0]["last_error"] is None and body["data"][0]["next_attempt_at"] is not None

    only = api.get(path, {"status": "failed,delivered"}).json()
    assert [d["id"] for d in only["data"]] == [str(failed.id), str(delivered.id)]
    assert api.get(path, {"status": "pending"}).json()["count"] == 1
    assert api.get(path, {"status": "lost"}).status_code == 400
    assert api.get(path, {"status": ""}).json() == {"status": ["This field may not be blank."]}


def test_retry_makes_a_failed_delivery_pending_and_due_now(api, company, queue):
    endpoint = WebhookEndpointFactory(company=company)
    failed = WebhookDeliveryFactory(
        endpoint=endpoint, status=Status.FAILED, attempts=13, next_attempt_at=None, last_error="HTTP 500"
    )
    since = len(queue.sent)
    with queue.capture(execute=True):
        response = api.post(company_url(company, f"webhook-deliveries/{failed.id}/retry"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["attempts"], body["last_error"]) == ("pending", 13, "HTTP 500")
    assert queue.new_deliveries(since) == [str(failed.id)]


def test_retry_of_a_delivered_one_or_on_a_disabled_endpoint_is_409(api, company):
    endpoint = WebhookEndpointFactory(company=company)
    delivered = WebhookDeliveryFactory(endpoint=endpoint, status=Status.DELIVERED, next_attempt_at=None)
    response = api.post(company_url(company, f"webhook-deliveries/{delivered.id}/retry"))
    assert response.status_code == 409 and response.json()["code"] == "already_delivered"
    off = WebhookEndpointFactory(company=company, enabled=False)
    failed = WebhookDeliveryFactory(endpoint=off, status=Status.FAILED, next_attempt_at=None)
    response = api.post(company_url(company, f"webhook-deliveries/{failed.id}/retry"))
    assert response.status_code == 409 and response.json()["code"] == "endpoint_disabled"
    failed.refresh_from_db()
    assert failed.status == Status.FAILED

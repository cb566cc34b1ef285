"""The events admin: read-only lists for support, secrets never shown, retry through the service."""

import pytest
from django.urls import reverse

from events.models import WebhookDelivery, WebhookEndpoint
from tests.factories.core import UserFactory
from tests.factories.events import EventFactory, WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="support", is_staff=True, is_superuser=True))
    return client


def test_events_are_searched_by_exact_ids_and_filtered_by_type_read_only(staff_client, company):
    event = EventFactory(company=company)
    other = EventFactory(company=company, type="queue_row.sent")
    changelist = reverse("admin:events_event_changelist")
    found = staff_client.get(changelist, {"q": str(event.subject_id)}).content.decode()
    assert str(event.subject_id) in found and str(other.subject_id) not in found
    assert staff_client.get(changelist, {"q": "not-a-uuid"}).status_code == 200
    by_type = staff_client.get(changelist, {"type__exact": "queue_row.sent"}).content.decode()
    assert str(other.subject_id) in by_type and str(event.subject_id) not in by_type
    assert staff_client.get(reverse("admin:events_event_change", args=[event.pk])).status_code == 200
    assert staff_client.get(reverse("admin:events_event_add")).status_code == 403
    assert staff_client.get(reverse("admin:events_event_delete", args=[event.pk])).status_code == 403


def test_endpoints_list_filter_and_search_and_never_show_a_secret(staff_client, company):
    endpoint = WebhookEndpointFactory(company=company, url="https://93.184.215.14/erp")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret="whsec_b2xkLW9sZC1vbGQ=")
    disabled = WebhookEndpointFactory(company=company, url="https://93.184.215.14/off", enabled=False)
    changelist = reverse("admin:events_webhookendpoint_changelist")
    page = staff_client.get(changelist, {"q": "erp"}).content.decode()
    assert "/erp" in page and "/off" not in page
    off = staff_client.get(changelist, {"enabled__exact": "0"}).content.decode()
    assert "/off" in off and "/erp" not in off
    detail = staff_client.get(reverse("admin:events_webhookendpoint_change", args=[endpoint.pk])).content
    for page in (detail.decode(), staff_client.get(changelist).content.decode()):
        assert endpoint.secret not in page and "whsec_" not in page
    assert disabled.enabled is False


def test_the_disable_and_enable_actions_go_through_the_service(staff_client, company):
    endpoint = WebhookEndpointFactory(company=company)
    pending = WebhookDeliveryFactory(endpoint=endpoint)
    changelist = reverse("admin:events_webhookendpoint_changelist")
    staff_client.post(changelist, {"action": "disable_selected", "_selected_action": [str(endpoint.pk)]})
    endpoint.refresh_from_db()
    pending.refresh_from_db()
    assert not endpoint.enabled and pending.status == Status.FAILED
    staff_client.post(changelist, {"action": "enable_selected", "_selected_action": [str(endpoint.pk)]})
    endpoint.refresh_from_db()
    assert endpoint.enabled


def test_deliveries_are_read_only_and_retried_through_the_service(
    staff_client, company, queue, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(company=company)
    failed = WebhookDeliveryFactory(endpoint=endpoint, status=Status.FAILED, next_attempt_at=None, attempts=3)
    delivered = WebhookDeliveryFactory(endpoint=endpoint, status=Status.DELIVERED, next_attempt_at=None)
    changelist = reverse("admin:events_webhookdelivery_changelist")
    listing = staff_client.get(changelist, {"status__exact": "failed"}).content.decode()
    assert str(failed.pk) in listing and str(delivered.pk) not in listing
    change = reverse("admin:events_webhookdelivery_change", args=[failed.pk])
    assert staff_client.get(change).status_code == 200
    assert staff_client.post(change, {"status": "delivered"}).status_code == 403
    assert (
        staff_client.get(reverse("admin:events_webhookdelivery_delete", args=[failed.pk])).status_code == 403
    )

    since = len(queue.sent)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            changelist,
            {"action": "retry_selected", "_selected_action": [str(failed.pk), str(delivered.pk)]},
            follow=True,
        )
    assert "1 delivery(ies) sent again; 1 skipped" in response.content.decode()
    assert queue.new_deliveries(since) == [str(failed.pk)]
    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.PENDING, 3) and delivered.status == Status.DELIVERED


def test_an_events_data_is_shown_indented_for_reading(staff_client, company):
    event = EventFactory(company=company, data={"id": "x", "subject": "Invoice INV-1 is due"})
    page = staff_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert "<pre style='white-space: pre-wrap'>{\n  &quot;id&quot;: &quot;x&quot;," in page

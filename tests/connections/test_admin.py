import pytest
from django.urls import reverse

from connections.models import WebhookDelivery
from tests.factories.connections import EmailConnectionFactory, WebhookDeliveryFactory
from tests.factories.core import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = UserFactory(username="support", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_connections_changelist_shows_status_and_owner(staff_client, member):
    EmailConnectionFactory(
        company=member.company, member=member, email="owner-box@seller.example", status="error"
    )
    page = staff_client.get(reverse("admin:connections_emailconnection_changelist")).content.decode()
    assert "owner-box@seller.example" in page and member.display_name in page and "error" in page


def test_webhook_log_is_read_only(staff_client):
    delivery = WebhookDelivery.objects.create(
        notification_id="n-1", event_type="grant.expired", payload={}, outcome="ignored: unknown grant"
    )
    page = staff_client.get(reverse("admin:connections_webhookdelivery_changelist")).content.decode()
    assert "grant.expired" in page and "ignored: unknown grant" in page
    assert staff_client.get(reverse("admin:connections_webhookdelivery_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:connections_webhookdelivery_change", args=[delivery.pk]), {"outcome": "edited"}
    )
    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.outcome == "ignored: unknown grant"


def test_webhook_log_and_outbox_cannot_be_deleted(staff_client):
    """What Nylas told us and what the outbox 'sent' is history support relies on."""
    delivery = WebhookDeliveryFactory()
    delete = reverse("admin:connections_webhookdelivery_delete", args=[delivery.pk])
    assert staff_client.get(delete).status_code == 403
    listing = staff_client.get(reverse("admin:connections_outboxmessage_changelist")).content.decode()
    assert "delete_selected" not in listing
    assert WebhookDelivery.objects.filter(pk=delivery.pk).exists()

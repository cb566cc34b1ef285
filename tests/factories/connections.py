import factory

from connections.models import EmailConnection, WebhookDelivery
from tests.factories.core import CompanyFactory


class EmailConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailConnection

    company = factory.SubFactory(CompanyFactory)
    member = None
    email = factory.Sequence(lambda n: f"ar{n}@seller.example")
    provider = "google"
    grant_id = factory.Sequence(lambda n: f"grant-{n}")
    status = EmailConnection.Status.ACTIVE


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A recorded, not yet processed Nylas notification (default: grant.expired for `grant_id`)."""

    class Meta:
        model = WebhookDelivery

    notification_id = factory.Sequence(lambda n: f"notif-{n}")
    event_type = "grant.expired"
    grant_id = "grant-0"
    payload = factory.LazyAttribute(
        lambda o: {
            "id": o.notification_id,
            "type": o.event_type,
            "data": {"object": {"grant_id": o.grant_id}},
        }
    )

import uuid

import factory
from django.utils import timezone

from events.endpoints import new_secret
from events.models import Event, WebhookDelivery, WebhookEndpoint
from events.types import ALL_TYPES, ENROLLMENT_CREATED
from tests.factories.core import CompanyFactory

# A public address (no DNS needed): passes the URL rules with both WEBHOOK_ALLOW_* settings off.
PUBLIC_URL = "https://93.184.215.14/hooks"


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    company = factory.SubFactory(CompanyFactory)
    url = PUBLIC_URL
    description = ""
    event_types = factory.LazyFunction(lambda: [ALL_TYPES])
    enabled = True
    secret = factory.LazyFunction(new_secret)


class EventFactory(factory.django.DjangoModelFactory):
    """An event as events_record writes it (data: a stand-in object with the subject's id)."""

    class Meta:
        model = Event

    company = factory.SubFactory(CompanyFactory)
    type = ENROLLMENT_CREATED
    subject_type = "enrollment"
    subject_id = factory.LazyFunction(uuid.uuid4)
    data = factory.LazyAttribute(lambda o: {"id": str(o.subject_id), "status": "active"})


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A pending delivery, due now."""

    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event = factory.SubFactory(EventFactory, company=factory.SelfAttribute("..endpoint.company"))
    status = WebhookDelivery.Status.PENDING
    next_attempt_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)

import factory

from connections.models import EmailConnection
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

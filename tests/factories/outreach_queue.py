import factory
from django.utils import timezone

from outreach_queue.models import Reply, Suppression


class ReplyFactory(factory.django.DjangoModelFactory):
    """A reply heard in the thread of a sent row (`row`), of its enrollment and customer."""

    class Meta:
        model = Reply

    row = None
    enrollment = factory.LazyAttribute(lambda o: o.row.enrollment)
    company = factory.LazyAttribute(lambda o: o.enrollment.company)
    customer = factory.LazyAttribute(lambda o: o.enrollment.customer)
    provider_message_id = factory.Sequence(lambda n: f"reply-{n}")
    from_email = factory.LazyAttribute(lambda o: o.customer.email)
    subject = "Re: your invoice"
    text = "We will pay on Friday."
    received_at = factory.LazyFunction(timezone.now)


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suppression

    company = factory.SubFactory("tests.factories.core.CompanyFactory")
    email = factory.Sequence(lambda n: f"suppressed{n}@customer.example")
    reason = Suppression.Reason.MANUAL

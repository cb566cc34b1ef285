import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from daylit.models import Company, Customer, Dispute, Invoice, Member, Promise


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    company = factory.SubFactory(CompanyFactory)
    user = factory.SubFactory(UserFactory)
    role = Member.Role.ADMIN


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    company = factory.SubFactory(CompanyFactory)
    name = factory.Faker("company")
    email = factory.Sequence(lambda n: f"ap{n}@customer.example")

    class Params:
        # A customer with its own calendar: England's holidays, London time.
        in_england = factory.Trait(timezone="Europe/London", country="GB", subdivision="ENG")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    customer = factory.SubFactory(CustomerFactory)
    company = factory.SelfAttribute("customer.company")
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    currency = "USD"
    amount_due = Decimal("1250.00")
    issue_date = datetime.date(2026, 10, 1)
    due_date = datetime.date(2026, 10, 31)
    status = Invoice.Status.OPEN


class PromiseFactory(factory.django.DjangoModelFactory):
    """A row as the services would write it (for reads and settling; creating through the API or
    daylit.promises is what the transition tests use)."""

    class Meta:
        model = Promise

    invoice = factory.SubFactory(InvoiceFactory)
    company = factory.SelfAttribute("invoice.company")
    customer = factory.SelfAttribute("invoice.customer")
    amount = factory.SelfAttribute("invoice.amount_due")
    currency = factory.SelfAttribute("invoice.currency")
    promised_date = datetime.date(2026, 12, 15)
    status = Promise.Status.OPEN


class DisputeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dispute
        skip_postgeneration_save = True

    invoice = factory.SubFactory(InvoiceFactory)
    company = factory.SelfAttribute("invoice.company")
    customer = factory.SelfAttribute("invoice.customer")
    reason = Dispute.Reason.NOT_RECEIVED
    status = Dispute.Status.OPEN

    @factory.post_generation
    def mark_invoice_disputed(obj, create, extracted, **kwargs):
        """An open dispute makes its invoice `disputed`, as daylit.disputes keeps it."""
        if create and obj.status == Dispute.Status.OPEN:
            Invoice.objects.filter(pk=obj.invoice_id).update(disputed=True)
            obj.invoice.disputed = True

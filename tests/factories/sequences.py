import datetime

import factory

from sequences.models import Sequence, SequenceStep
from tests.factories.core import CompanyFactory


class SequenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sequence

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Net-30 reminders {n}")
    status = Sequence.Status.DRAFT
    timezone = "America/New_York"


class SequenceStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SequenceStep

    sequence = factory.SubFactory(SequenceFactory)
    step_type = SequenceStep.StepType.REMINDER
    label = factory.Sequence(lambda n: f"Step {n}")
    offset_days = 0
    offset_time = datetime.time(9, 0)
    subject_template = "Invoice {{ invoice.number }} is due"
    body_plain_template = "Hello {{ customer.name }}, {{ invoice.amount_due }} {{ invoice.currency }} is due."
    body_html_template = "<p>Hello {{ customer.name }}</p>"

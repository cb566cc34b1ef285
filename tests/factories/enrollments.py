import datetime

import factory
from django.utils import timezone

from enrollments.models import Enrollment, ScheduledStep
from tests.factories.core import CustomerFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    sequence = factory.SubFactory(SequenceFactory, status="active")
    company = factory.SelfAttribute("sequence.company")
    customer = factory.SubFactory(CustomerFactory, company=factory.SelfAttribute("..sequence.company"))
    status = Enrollment.Status.ACTIVE
    start_date = datetime.date(2026, 11, 26)


class ScheduledStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduledStep

    enrollment = factory.SubFactory(EnrollmentFactory)
    company = factory.SelfAttribute("enrollment.company")
    sequence = factory.SelfAttribute("enrollment.sequence")
    customer = factory.SelfAttribute("enrollment.customer")
    step = factory.SubFactory(SequenceStepFactory, sequence=factory.SelfAttribute("..enrollment.sequence"))
    step_type = factory.SelfAttribute("step.step_type")
    status = ScheduledStep.Status.SCHEDULED
    scheduled_for = factory.LazyFunction(timezone.now)

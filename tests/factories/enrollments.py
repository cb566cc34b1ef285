import datetime

import factory
from django.utils import timezone

from enrollments.models import Enrollment, ScheduledStep
from sequences.models import Sequence
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
    time_zone = factory.SelfAttribute("sequence.timezone")


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


def active_sequence_with_steps(*, company, steps: int = 3, timezone_name: str = "America/New_York", **kwargs):
    """An active sequence whose steps fall on days 0, 3, 6, ... at 09:00 local (reminder, call, task...)."""
    sequence = SequenceFactory(
        company=company, status=Sequence.Status.ACTIVE, timezone=timezone_name, **kwargs
    )
    kinds = ["reminder", "call", "task"]
    for index in range(steps):
        SequenceStepFactory(
            sequence=sequence,
            step_type=kinds[index % 3],
            offset_days=3 * index,
            offset_time=datetime.time(9, 0),
            label=f"Step {index + 1}",
        )
    return sequence

"""A row assigned a variant renders that variant's templates at promotion, is never AI-drafted, and shows
its `variant_key` in the queue API, in `queue_row` events and in OpenAPI (docs/variants.md)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from enrollments import services as enrollment_services
from enrollments.models import ScheduledStep
from enrollments.payloads import QUEUE_ROW
from events.models import Event
from events.types import QUEUE_ROW_CANCELLED, QUEUE_ROW_READY
from outreach_queue import selectors
from outreach_queue.api.serializers import QueueRowSerializer
from outreach_queue.services import queue_rows_promote
from tests.conftest import company_url
from tests.events.helpers import as_api_json
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceStepFactory
from tests.outreach_queue.helpers import Status, past, sequence_with_sender

pytestmark = pytest.mark.django_db

VARIANTS = [
    {
        "key": "friendly",
        "weight": 1,
        "subject_template": "Friendly: {{ invoice.number }}",
        "body_plain_template": "Hi {{ customer.name }}, a small reminder.",
        "body_html_template": "<p>Hi {{ customer.name }}</p>",
    },
    {
        "key": "firm",
        "weight": 1,
        "subject_template": "Overdue: {{ invoice.number }}",
        "body_plain_template": "{{ customer.name }}, {{ invoice.amount_due }} is overdue.",
        "body_html_template": "",
    },
]


def billed_customer(company, number):
    customer = CustomerFactory(company=company, name="Acme")
    InvoiceFactory(customer=customer, number=number, amount_due=Decimal("100.00"))
    return customer


def experiment_row(
    company, key, *, sequence=None, number="INV-9", status=Status.SCHEDULED, error="", **step_fields
):
    sequence = sequence or sequence_with_sender(company)
    customer = billed_customer(company, number)
    fields = {"variants": VARIANTS, "holdout_percent": 10, **step_fields}
    step = SequenceStepFactory(
        sequence=sequence, subject_template="Step's own: {{ invoice.number }}", **fields
    )
    enrollment = EnrollmentFactory(sequence=sequence, company=company, customer=customer)
    return ScheduledStepFactory(
        enrollment=enrollment, step=step, scheduled_for=past(), variant_key=key, status=status, error=error
    )


def test_promotion_renders_each_rows_variant(company):
    sequence = sequence_with_sender(company)
    friendly = experiment_row(company, "friendly", sequence=sequence)
    firm = experiment_row(company, "firm", sequence=sequence, number="INV-10")
    plain = experiment_row(company, None, sequence=sequence, number="INV-11", variants=[], holdout_percent=10)

    assert queue_rows_promote(company=company) == 3
    for row in (friendly, firm, plain):
        row.refresh_from_db()
        assert row.status == Status.READY, row.error
    assert (friendly.subject, friendly.body_plain, friendly.body_html) == (
        "Friendly: INV-9",
        "Hi Acme, a small reminder.",
        "<p>Hi Acme</p>",
    )
    assert (firm.subject, firm.body_plain, firm.body_html) == (
        "Overdue: INV-10",
        "Acme, 100.00 is overdue.",
        "",
    )
    assert plain.subject == "Step's own: INV-11"  # a holdout-only step: the others get its own wording
    assert (friendly.variant_key, firm.variant_key, plain.variant_key) == ("friendly", "firm", None)


def test_a_variant_that_cannot_render_fails_its_row_only(company):
    sequence = sequence_with_sender(company)
    ok = experiment_row(company, "friendly", sequence=sequence)
    customer = CustomerFactory(company=company)  # no open invoice: the variant reads invoice.number
    enrollment = EnrollmentFactory(sequence=sequence, company=company, customer=customer)
    broken = ScheduledStepFactory(
        enrollment=enrollment, step=ok.step, scheduled_for=past(), variant_key="firm"
    )
    gone = ScheduledStepFactory(
        enrollment=EnrollmentFactory(
            sequence=sequence, company=company, customer=billed_customer(company, "INV-2")
        ),
        step=ok.step,
        scheduled_for=past(),
        variant_key="removed",
    )

    queue_rows_promote(company=company)
    for row in (ok, broken, gone):
        row.refresh_from_db()
    assert ok.status == Status.READY
    assert broken.status == Status.FAILED and broken.error.startswith("Could not render: subject_template:")
    assert gone.status == Status.FAILED
    assert gone.error == "Could not render: the step has no variant 'removed' any more"


def test_a_variant_row_of_an_instructed_step_is_rendered_not_drafted(company, fake_ai):
    """Variants carry their wording: only the rows without one wait for the AI."""
    sequence = sequence_with_sender(company)
    variant_row = experiment_row(company, "firm", sequence=sequence, instructions="Be brief.")
    drafted = ScheduledStepFactory(
        enrollment=EnrollmentFactory(
            sequence=sequence, company=company, customer=billed_customer(company, "INV-3")
        ),
        step=variant_row.step,
        scheduled_for=past(),
        variant_key=None,
    )
    queue_rows_promote(company=company)
    variant_row.refresh_from_db()
    drafted.refresh_from_db()
    assert (variant_row.status, variant_row.draft_pending, variant_row.subject) == (
        Status.READY,
        False,
        "Overdue: INV-9",
    )
    assert drafted.draft_pending is True and drafted.subject == ""


def test_a_held_out_row_is_never_promoted(company):
    sequence = sequence_with_sender(company)
    step = SequenceStepFactory(sequence=sequence, variants=[], holdout_percent=50)
    customers = [CustomerFactory(company=company) for _ in range(20)]
    for customer in customers:
        InvoiceFactory(customer=customer)
    start = timezone.localdate() - datetime.timedelta(days=1)  # every row is due now
    for customer in customers:
        enrollment_services.enrollment_create(sequence=sequence, customer=customer, start_date=start)
    held_out = ScheduledStep.objects.filter(step=step, variant_key="holdout")
    count = held_out.count()
    assert 0 < count < 20  # 20 fair coins, all one side: odds 2 in a million
    queue_rows_promote(company=company)
    assert set(held_out.values_list("status", "error")) == {(Status.CANCELLED, "holdout")}
    assert ScheduledStep.objects.filter(step=step, status=Status.READY).count() == 20 - count
    assert not Event.objects.filter(type=QUEUE_ROW_READY, subject_id__in=held_out.values("pk")).exists()


# --- variant_key on the API, in events, in OpenAPI ----------------------------------------------------


def test_variant_key_in_the_queue_api(api, company):
    row = experiment_row(company, "firm")
    held = experiment_row(company, "holdout", number="INV-10", status=Status.CANCELLED, error="holdout")
    plain = experiment_row(company, None, number="INV-11")
    base = company_url(company, "sequences/queue")
    for each, key in ((row, "firm"), (held, "holdout"), (plain, None)):
        response = api.get(f"{base}/{each.pk}")
        assert response.status_code == 200
        assert response.json()["variant_key"] == key
    listed = api.get(base, {"status": "scheduled"})
    assert listed.status_code == 200, listed.json()
    assert {item["id"]: item["variant_key"] for item in listed.json()["data"]} == {
        str(row.pk): "firm",
        str(plain.pk): None,
    }


def test_queue_row_events_carry_the_variant_key_as_the_api_does(company):
    sequence = sequence_with_sender(company)
    SequenceStepFactory(sequence=sequence, variants=VARIANTS, holdout_percent=50)
    customers = [CustomerFactory(company=company) for _ in range(12)]
    for customer in customers:
        InvoiceFactory(customer=customer)
    Event.objects.all().delete()
    enrollment_services.enrollments_bulk_create(
        sequence=sequence,
        customer_ids=[c.pk for c in customers],
        start_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    queue_rows_promote(company=company)
    events = list(
        Event.objects.filter(type__in=[QUEUE_ROW_READY, QUEUE_ROW_CANCELLED], subject_type=QUEUE_ROW)
    )
    assert len(events) == 12
    keys = {event.type: set() for event in events}
    for event in events:
        row = ScheduledStep.objects.get(pk=event.subject_id)
        assert event.data["variant_key"] == row.variant_key
        keys[event.type].add(row.variant_key)
        if event.type == QUEUE_ROW_READY:  # the row has not changed since: the event is the API's row
            api_row = QueueRowSerializer(selectors.queue_row_get(company=company, row_id=row.pk)).data
            assert event.data == as_api_json(api_row)
    assert keys.get(QUEUE_ROW_CANCELLED, set()) <= {"holdout"}
    assert keys.get(QUEUE_ROW_READY, set()) <= {"friendly", "firm"}
    assert QUEUE_ROW_CANCELLED in keys and QUEUE_ROW_READY in keys  # 12 coins


def test_openapi_queue_row_has_a_nullable_variant_key(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    row = schema["components"]["schemas"]["QueueRow"]
    assert "variant_key" in row["required"]
    prop = row["properties"]["variant_key"]
    assert prop["type"] == "string" and prop["nullable"] is True and prop["readOnly"] is True

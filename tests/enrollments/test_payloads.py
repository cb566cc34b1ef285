"""The `enrollment` payload query (enrollments/payloads.py) gives exactly what EnrollmentSerializer
gives: active and completed, with and without an invoice."""

import pytest

from enrollments import services
from enrollments.api.serializers import EnrollmentSerializer
from enrollments.payloads import ENROLLMENT
from events.types import ENROLLMENT_COMPLETED
from tests.events.emission import payload
from tests.events.helpers import as_api_json
from tests.factories.core import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("with_invoice", [True, False])
def test_active_and_completed_enrollments_are_the_api_shape(company, sequence, with_invoice):
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer) if with_invoice else None
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=customer, invoice=invoice)
    event = payload(type=ENROLLMENT_COMPLETED, subject_type=ENROLLMENT, obj_id=enrollment.pk)
    assert event.data == as_api_json(EnrollmentSerializer(enrollment).data)

    stopped, _ = services.enrollment_stop(enrollment=enrollment, reason="Customer asked: \u201cno more\u201d")
    event = payload(type=ENROLLMENT_COMPLETED, subject_type=ENROLLMENT, obj_id=enrollment.pk)
    assert event.data == as_api_json(EnrollmentSerializer(stopped).data)
    assert event.data["stop_reason"] == "Customer asked: \u201cno more\u201d" and event.data["completed_at"]

import pytest
from django.contrib.auth import get_user_model

from enrollments import services
from enrollments.models import Enrollment, ScheduledStep
from tests.factories.core import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("support", "support@example.com", "pw")
    client.force_login(user)
    return client


def test_changelist_filters_search_and_detail_with_inline(admin_client, company, sequence):
    customer = CustomerFactory(company=company, name="Findable Industries")
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=customer)
    listing = admin_client.get(
        f"/admin/enrollments/enrollment/?status=active&sequence__id__exact={sequence.id}"
    )
    assert listing.status_code == 200
    assert "Findable Industries" in listing.content.decode()
    found = admin_client.get("/admin/enrollments/enrollment/?q=findable")
    assert "Findable Industries" in found.content.decode()
    detail = admin_client.get(f"/admin/enrollments/enrollment/{enrollment.pk}/change/")
    assert detail.status_code == 200
    assert detail.content.decode().count("scheduled_steps-") >= 3  # the read-only inline rows


def test_stop_action_goes_through_the_service(admin_client, company, sequence):
    enrollment, _ = services.enrollment_create(sequence=sequence, customer=CustomerFactory(company=company))
    response = admin_client.post(
        "/admin/enrollments/enrollment/",
        {"action": "stop_selected", "_selected_action": [str(enrollment.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason) == (Enrollment.Status.COMPLETED, "stopped")
    assert ScheduledStep.objects.filter(enrollment=enrollment, status="cancelled").count() == 3

import datetime
import uuid

import pytest

from enrollments.models import Enrollment, ScheduledStep
from sequences.models import Sequence
from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, active_sequence_with_steps
from tests.factories.sequences import SequenceFactory

pytestmark = pytest.mark.django_db

ENROLL = "sequence-enrollments"


def enroll(api, company, **body):
    return api.post(company_url(company, ENROLL), body, format="json")


def bulk_url(company, sequence):
    return company_url(company, f"sequences/{sequence.id}/enrollments/bulk")


# --- enroll ----------------------------------------------------------------------------------------


def test_enroll_requires_a_token(anon, company, sequence):
    customer = CustomerFactory(company=company)
    response = enroll(anon, company, sequence_id=str(sequence.id), customer_id=str(customer.id))
    assert response.status_code == 401


def test_enroll_in_a_company_you_are_not_in_is_404(outsider_api, company, sequence):
    customer = CustomerFactory(company=company)
    response = enroll(outsider_api, company, sequence_id=str(sequence.id), customer_id=str(customer.id))
    assert response.status_code == 404
    assert not Enrollment.objects.exists()


def test_enroll_creates_then_returns_the_existing_one(api, company, sequence, member):
    customer = CustomerFactory(company=company)
    body = {"sequence_id": str(sequence.id), "customer_id": str(customer.id), "start_date": "2027-03-14"}
    first = enroll(api, company, **body)
    assert first.status_code == 201, first.json()
    data = first.json()
    assert data["created"] is True
    enrollment = data["enrollment"]
    assert set(enrollment) == {
        "id",
        "sequence_id",
        "customer_id",
        "invoice_id",
        "status",
        "start_date",
        "time_zone",
        "stop_reason",
        "completed_at",
        "paused_at",
        "paused_until",
        "pause_reason",
        "created_at",
    }
    assert enrollment["status"] == "active" and enrollment["start_date"] == "2027-03-14"
    assert enrollment["created_at"].endswith("Z")
    assert Enrollment.objects.get().created_by == member
    assert ScheduledStep.objects.count() == 3

    second = enroll(api, company, **body)
    assert second.status_code == 200
    assert second.json() == {"created": False, "enrollment": enrollment}


def test_enroll_with_the_customers_invoice(api, company, sequence):
    invoice = InvoiceFactory(customer=CustomerFactory(company=company))
    response = enroll(
        api,
        company,
        sequence_id=str(sequence.id),
        customer_id=str(invoice.customer_id),
        invoice_id=str(invoice.id),
    )
    assert response.status_code == 201
    assert response.json()["enrollment"]["invoice_id"] == str(invoice.id)


def test_invoice_of_another_customer_is_400(api, company, sequence):
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=CustomerFactory(company=company))
    response = enroll(
        api, company, sequence_id=str(sequence.id), customer_id=str(customer.id), invoice_id=str(invoice.id)
    )
    assert response.status_code == 400
    assert "invoice_id" in response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sequence_id", "not-a-uuid"),
        ("customer_id", 42),
        ("start_date", "2027-02-30"),
        ("start_date", "tomorrow"),
        ("start_date", "0001-01-01"),
        ("invoice_id", "nope"),
    ],
)
def test_enroll_bad_input_is_400_naming_the_field(api, company, sequence, field, value):
    body = {"sequence_id": str(sequence.id), "customer_id": str(CustomerFactory(company=company).id)}
    body[field] = value
    response = enroll(api, company, **body)
    assert response.status_code == 400
    assert field in response.json()


def test_enroll_missing_fields_is_400(api, company):
    response = enroll(api, company)
    assert response.status_code == 400
    assert set(response.json()) == {"sequence_id", "customer_id"}


def test_ids_of_another_company_do_not_exist(api, company, other_company, sequence):
    foreign_sequence = active_sequence_with_steps(company=other_company)
    foreign_customer = CustomerFactory(company=other_company)
    foreign_invoice = InvoiceFactory(customer=foreign_customer)
    mine = CustomerFactory(company=company)
    for body, field in [
        ({"sequence_id": foreign_sequence.id, "customer_id": mine.id}, "sequence_id"),
        ({"sequence_id": sequence.id, "customer_id": foreign_customer.id}, "customer_id"),
        (
            {"sequence_id": sequence.id, "customer_id": mine.id, "invoice_id": foreign_invoice.id},
            "invoice_id",
        ),
    ]:
        response = enroll(api, company, **{k: str(v) for k, v in body.items()})
        assert response.status_code == 400
        assert field in response.json()
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_enroll_into_an_inactive_sequence_is_409(api, company, status):
    sequence = SequenceFactory(company=company, status=status)
    response = enroll(
        api, company, sequence_id=str(sequence.id), customer_id=str(CustomerFactory(company=company).id)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "sequence_not_active"


# --- list and detail -------------------------------------------------------------------------------


def test_list_and_filters(api, company, other_company, sequence):
    other_sequence = active_sequence_with_steps(company=company)
    a = EnrollmentFactory(sequence=sequence)
    b = EnrollmentFactory(sequence=other_sequence, customer=a.customer)
    c = EnrollmentFactory(
        sequence=sequence,
        status=Enrollment.Status.COMPLETED,
        completed_at=datetime.datetime.now(datetime.UTC),
    )
    EnrollmentFactory(sequence=active_sequence_with_steps(company=other_company))

    def ids(query=""):
        response = api.get(company_url(company, f"{ENROLL}{query}"))
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["data"]}

    assert ids() == {str(a.id), str(b.id), str(c.id)}
    assert ids(f"?sequence_id={sequence.id}") == {str(a.id), str(c.id)}
    assert ids(f"?customer_id={a.customer_id}") == {str(a.id), str(b.id)}
    assert ids("?status=completed") == {str(c.id)}
    assert ids(f"?status=active&sequence_id={sequence.id}") == {str(a.id)}
    assert ids("?status=active,completed") == {str(a.id), str(b.id), str(c.id)}


@pytest.mark.parametrize(
    "query", ["?status=stopped", "?sequence_id=x", "?customer_id=1", "?page=0", "?page_size=101"]
)
def test_list_bad_filters_are_400(api, company, query):
    assert api.get(company_url(company, f"{ENROLL}{query}")).status_code == 400


def test_list_has_a_fixed_number_of_queries(api, company, sequence, django_assert_max_num_queries):
    for _ in range(5):
        EnrollmentFactory(sequence=sequence)
    with django_assert_max_num_queries(5):  # token (+ its last_used_at), membership, count, page
        assert len(api.get(company_url(company, ENROLL)).json()["data"]) == 5


def test_list_auth(anon, outsider_api, company):
    assert anon.get(company_url(company, ENROLL)).status_code == 401
    assert outsider_api.get(company_url(company, ENROLL)).status_code == 404


def test_detail(api, anon, outsider_api, company, other_company, sequence):
    enrollment = EnrollmentFactory(sequence=sequence)
    url = company_url(company, f"{ENROLL}/{enrollment.id}")
    response = api.get(url)
    assert response.status_code == 200
    assert response.json()["id"] == str(enrollment.id)
    assert response.json()["sequence_id"] == str(sequence.id)
    assert anon.get(url).status_code == 401
    assert outsider_api.get(url).status_code == 404
    foreign = EnrollmentFactory(sequence=active_sequence_with_steps(company=other_company))
    assert api.get(company_url(company, f"{ENROLL}/{foreign.id}")).status_code == 404
    assert api.get(company_url(company, f"{ENROLL}/{uuid.uuid4()}")).status_code == 404
    assert api.get(company_url(company, f"{ENROLL}/not-a-uuid")).status_code == 404


# --- stop ------------------------------------------------------------------------------------------


def _enroll_one(api, company, sequence):
    customer = CustomerFactory(company=company)
    return enroll(api, company, sequence_id=str(sequence.id), customer_id=str(customer.id)).json()[
        "enrollment"
    ]


def test_stop(api, company, sequence):
    enrollment = _enroll_one(api, company, sequence)
    url = company_url(company, f"{ENROLL}/{enrollment['id']}/stop")
    first = ScheduledStep.objects.filter(enrollment_id=enrollment["id"]).order_by("scheduled_for").first()
    ScheduledStep.objects.filter(pk=first.pk).update(status="ready")

    response = api.post(url, {"stop_reason": "promised to pay"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["cancelled_scheduled_steps"] == 2
    assert body["enrollment"]["status"] == "completed"
    assert body["enrollment"]["stop_reason"] == "promised to pay"
    assert body["enrollment"]["completed_at"].endswith("Z")

    again = api.post(url, {}, format="json")
    assert again.status_code == 200
    assert again.json()["cancelled_scheduled_steps"] == 0
    assert again.json()["enrollment"]["stop_reason"] == "promised to pay"


def test_stop_without_reason_says_stopped(api, company, sequence):
    enrollment = _enroll_one(api, company, sequence)
    response = api.post(company_url(company, f"{ENROLL}/{enrollment['id']}/stop"), format="json")
    assert response.status_code == 200
    assert response.json()["enrollment"]["stop_reason"] == "stopped"
    assert response.json()["cancelled_scheduled_steps"] == 3


def test_stop_auth_and_bad_input(api, anon, outsider_api, company, other_company, sequence):
    enrollment = _enroll_one(api, company, sequence)
    url = company_url(company, f"{ENROLL}/{enrollment['id']}/stop")
    assert anon.post(url, {}, format="json").status_code == 401
    assert outsider_api.post(url, {}, format="json").status_code == 404
    assert api.post(url, {"stop_reason": ["x"]}, format="json").status_code == 400
    assert api.post(url, {"stop_reason": "x" * 201}, format="json").status_code == 400
    foreign = EnrollmentFactory(sequence=active_sequence_with_steps(company=other_company))
    assert api.post(company_url(company, f"{ENROLL}/{foreign.id}/stop"), {}, format="json").status_code == 404
    assert Enrollment.objects.get(pk=enrollment["id"]).status == "active"
    assert Enrollment.objects.get(pk=foreign.pk).status == "active"


# --- bulk ------------------------------------------------------------------------------------------


def test_bulk(api, company, other_company, sequence):
    customers = CustomerFactory.create_batch(3, company=company)
    already = customers[0]
    enroll(api, company, sequence_id=str(sequence.id), customer_id=str(already.id))
    ids = [str(c.id) for c in customers] + [str(customers[1].id), str(uuid.uuid4())]
    ids.append(str(CustomerFactory(company=other_company).id))
    response = api.post(
        bulk_url(company, sequence), {"customer_ids": ids, "start_date": "2027-01-04"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "enrolled_count": 2,
        "updated_count": 1,
        "skipped_count": 2,
        "no_open_invoice_count": 0,
    }
    assert Enrollment.objects.filter(sequence=sequence, status="active").count() == 3
    assert Enrollment.objects.get(customer=already, status="completed").stop_reason == "re_enrolled"


def test_bulk_limits(api, company, sequence):
    url = bulk_url(company, sequence)
    too_many = api.post(url, {"customer_ids": [str(uuid.uuid4()) for _ in range(10_001)]}, format="json")
    assert too_many.status_code == 400
    assert "10000" in too_many.json()["customer_ids"][0]
    assert "customer_ids" in api.post(url, {"customer_ids": []}, format="json").json()
    assert "customer_ids" in api.post(url, {}, format="json").json()
    assert "customer_ids" in api.post(url, {"customer_ids": ["nope"]}, format="json").json()
    assert "customer_ids" in api.post(url, {"customer_ids": "abc"}, format="json").json()
    bad_date = api.post(url, {"customer_ids": [str(uuid.uuid4())], "start_date": "2027-13-01"}, format="json")
    assert bad_date.status_code == 400 and "start_date" in bad_date.json()


def test_bulk_exactly_10000_is_accepted(api, company, sequence):
    response = api.post(
        bulk_url(company, sequence),
        {"customer_ids": [str(uuid.uuid4()) for _ in range(10_000)]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "enrolled_count": 0,
        "updated_count": 0,
        "skipped_count": 10_000,
        "no_open_invoice_count": 0,
    }


def test_bulk_auth_and_other_company(api, anon, outsider_api, company, other_company, sequence):
    body = {"customer_ids": [str(CustomerFactory(company=company).id)]}
    assert anon.post(bulk_url(company, sequence), body, format="json").status_code == 401
    assert outsider_api.post(bulk_url(company, sequence), body, format="json").status_code == 404
    foreign = active_sequence_with_steps(company=other_company)
    assert api.post(bulk_url(company, foreign), body, format="json").status_code == 404
    assert (
        api.post(company_url(company, "sequences/nope/enrollments/bulk"), body, format="json").status_code
        == 404
    )
    assert not Enrollment.objects.exists()


def test_bulk_into_inactive_sequence_is_409(api, company):
    sequence = SequenceFactory(company=company, status=Sequence.Status.DRAFT)
    response = api.post(
        bulk_url(company, sequence),
        {"customer_ids": [str(CustomerFactory(company=company).id)]},
        format="json",
    )
    assert response.status_code == 409


def test_enrolling_when_every_step_is_inactive_is_409(api, company):
    from tests.factories.core import CustomerFactory
    from tests.factories.enrollments import active_sequence_with_steps

    sequence = active_sequence_with_steps(company=company)
    sequence.steps.update(is_active=False)
    customer = CustomerFactory(company=company)
    single = api.post(
        f"/api/companies/{company.id}/sequence-enrollments",
        {"sequence_id": str(sequence.id), "customer_id": str(customer.id)},
        format="json",
    )
    assert single.status_code == 409 and single.json()["code"] == "no_active_step"
    bulk = api.post(
        f"/api/companies/{company.id}/sequences/{sequence.id}/enrollments/bulk",
        {"customer_ids": [str(customer.id)]},
        format="json",
    )
    assert bulk.status_code == 409 and bulk.json()["code"] == "no_active_step"
    assert not sequence.enrollments.exists()


@pytest.mark.parametrize("status", ["paid", "void"])
def test_enrolling_for_a_settled_invoice_is_400(api, company, status):
    from django.utils import timezone

    from tests.factories.core import CustomerFactory, InvoiceFactory
    from tests.factories.enrollments import active_sequence_with_steps

    sequence = active_sequence_with_steps(company=company)
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer, status=status, paid_at=timezone.now())
    response = api.post(
        f"/api/companies/{company.id}/sequence-enrollments",
        {"sequence_id": str(sequence.id), "customer_id": str(customer.id), "invoice_id": str(invoice.id)},
        format="json",
    )
    assert response.status_code == 400 and "invoice_id" in response.json()

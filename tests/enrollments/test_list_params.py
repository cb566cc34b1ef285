"""The enrollment list: a filter present but empty, malformed or repeated is a 400 naming it; a
well-formed id of nothing (or of another company) filters to an empty list."""

import uuid

import pytest

from tests.conftest import company_url
from tests.factories.enrollments import EnrollmentFactory, active_sequence_with_steps
from tests.list_params import assert_rejected, bad_cases

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path, name, query", bad_cases("sequence-enrollments"))
def test_empty_malformed_or_repeated_parameter_is_400_naming_it(api, company, path, name, query):
    assert_rejected(api, company, path, name, query)


def test_empty_sequence_id_is_refused_not_every_enrollment(api, company, sequence):
    EnrollmentFactory(sequence=sequence)
    EnrollmentFactory(sequence=active_sequence_with_steps(company=company))
    response = api.get(company_url(company, "sequence-enrollments?sequence_id="))
    assert response.status_code == 400 and list(response.json()) == ["sequence_id"]


@pytest.mark.parametrize("name", ["sequence_id", "customer_id"])
def test_an_id_of_nothing_or_of_another_company_finds_nothing(api, company, other_company, sequence, name):
    EnrollmentFactory(sequence=sequence)
    foreign = EnrollmentFactory(sequence=active_sequence_with_steps(company=other_company))
    for value in (uuid.uuid4(), getattr(foreign, name)):
        response = api.get(company_url(company, "sequence-enrollments"), {name: str(value)})
        assert response.status_code == 200 and response.json()["data"] == [], value

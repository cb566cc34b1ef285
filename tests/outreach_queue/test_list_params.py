"""The queue list: a filter present but empty, malformed or repeated is a 400 naming it, never dropped
(issue 13: `?sequence_id=` listed every sequence's rows, and a person edited and sent the wrong email).
A well-formed id of nothing, or of another company, filters to an empty list."""

import uuid

import pytest

from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory, MemberFactory
from tests.list_params import assert_rejected, bad_cases
from tests.outreach_queue.helpers import due_row, sequence_with_sender

pytestmark = pytest.mark.django_db
QUEUE = "sequences/queue"


@pytest.mark.parametrize("path, name, query", bad_cases(QUEUE))
def test_empty_malformed_or_repeated_parameter_is_400_naming_it(api, company, path, name, query):
    assert_rejected(api, company, path, name, query)


def ids(api, company, **query) -> set[str]:
    response = api.get(company_url(company, QUEUE), query)
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["data"]}


@pytest.fixture
def two_rows(company):
    return due_row(company), due_row(company)


def test_empty_sequence_id_is_refused_not_every_row(api, company, two_rows):
    response = api.get(company_url(company, f"{QUEUE}?sequence_id="))
    assert response.status_code == 400
    assert response.json() == {"sequence_id": ["Must be a valid UUID."]}


@pytest.mark.parametrize("name", ["sequence_id", "enrollment_id", "customer_id"])
def test_id_filters_still_filter(api, company, two_rows, name):
    first, _ = two_rows
    assert ids(api, company, **{name: str(getattr(first, name))}) == {str(first.pk)}


@pytest.mark.parametrize("name", ["sequence_id", "enrollment_id", "customer_id", "ar_owner"])
def test_an_id_of_nothing_or_of_another_company_finds_nothing(api, company, other_company, two_rows, name):
    foreign = due_row(other_company)
    foreign_value = MemberFactory(company=other_company).pk if name == "ar_owner" else getattr(foreign, name)
    assert ids(api, company, **{name: str(uuid.uuid4())}) == set()
    assert ids(api, company, **{name: str(foreign_value)}) == set()


def test_owner_list_and_search_still_filter(api, company, member):
    customer = CustomerFactory(company=company, ar_owner=member, name="Zebra Traders")
    InvoiceFactory(customer=customer)
    owned = due_row(company, customer=customer)
    unowned = due_row(company, sequence=sequence_with_sender(company))
    assert ids(api, company, ar_owner=str(member.pk)) == {str(owned.pk)}
    assert ids(api, company, ar_owner=f"{member.pk},__unassigned__") == {str(owned.pk), str(unowned.pk)}
    assert ids(api, company, search="zebra", category="ready") == {str(owned.pk)}

"""Sequence and step lists: a filter present but empty, malformed or repeated is a 400 naming it."""

import pytest

from tests.conftest import company_url
from tests.factories.sequences import SequenceFactory
from tests.list_params import assert_rejected, bad_cases

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path, name, query", bad_cases("sequences", "sequences/{sequence_id}/steps"))
def test_empty_malformed_or_repeated_parameter_is_400_naming_it(api, company, path, name, query):
    assert_rejected(api, company, path, name, query)


def test_status_and_search_still_filter(api, company):
    draft = SequenceFactory(company=company, name="Net-30 draft")
    SequenceFactory(company=company, name="Net-60", status="active")

    def ids(**query):
        response = api.get(company_url(company, "sequences"), query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["data"]]

    assert ids(status="draft") == [str(draft.id)]
    assert ids(status="draft,archived", search="NET-30") == [str(draft.id)]

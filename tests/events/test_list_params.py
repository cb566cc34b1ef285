"""The webhook lists' query parameters: refused when empty, malformed or repeated."""

import pytest

from tests.list_params import assert_rejected, bad_cases

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path, name, query", bad_cases("webhook-endpoints", "webhook-endpoints/{endpoint_id}/deliveries")
)
def test_empty_malformed_or_repeated_parameter_is_400_naming_it(api, company, path, name, query):
    assert_rejected(api, company, path, name, query)

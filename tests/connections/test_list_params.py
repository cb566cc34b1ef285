"""The connections list takes only the page parameters: refused when empty, malformed or repeated."""

import pytest

from tests.list_params import assert_rejected, bad_cases

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path, name, query", bad_cases("email-connections"))
def test_empty_malformed_or_repeated_parameter_is_400_naming_it(api, company, path, name, query):
    assert_rejected(api, company, path, name, query)

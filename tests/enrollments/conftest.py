import pytest

from tests.factories.enrollments import active_sequence_with_steps


@pytest.fixture
def sequence(company):
    """Active, New York time, three active steps on days 0/3/6 at 09:00."""
    return active_sequence_with_steps(company=company)

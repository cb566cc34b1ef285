"""What every database session of the service runs with (daylit/settings.py)."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_sessions_run_without_jit():
    # The server's default is on: this is the service's own connection option.
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)

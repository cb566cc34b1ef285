"""The `email_connection` payload query (connections/payloads.py) gives exactly what
EmailConnectionSerializer gives, in every status, and never the grant id."""

import pytest

from connections.api.serializers import EmailConnectionSerializer
from connections.payloads import EMAIL_CONNECTION
from events.types import EMAIL_CONNECTION_UPDATED
from tests.events.emission import payload
from tests.events.helpers import as_api_json
from tests.factories.connections import EmailConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "owned", "shared"),
    [("active", True, False), ("revoked", False, False), ("error", True, True)],
)
def test_payload_is_the_api_shape_in_every_status(company, member, status, owned, shared):
    connection = EmailConnectionFactory(
        company=company, member=member if owned else None, status=status, allow_shared_sending=shared
    )
    event = payload(type=EMAIL_CONNECTION_UPDATED, subject_type=EMAIL_CONNECTION, obj_id=connection.pk)
    assert event.data == as_api_json(EmailConnectionSerializer(connection).data)
    assert (event.company_id, event.customer_id, event.enrollment_id) == (company.id, None, None)
    assert connection.grant_id not in str(event.data)

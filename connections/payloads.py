"""An email connection as an event's `data`: the API's EmailConnectionSerializer shape (never the grant
id), built in SQL (see events.subjects; tests/connections/test_payloads.py holds the two equal). A
connection belongs to no customer or enrollment timeline."""

from connections.models import EmailConnection
from events.subjects import api_time, register_subject

EMAIL_CONNECTION = "email_connection"

EMAIL_CONNECTION_SELECT = f"""
SELECT ec.id, ec.company_id, NULL::uuid AS customer_id, NULL::uuid AS enrollment_id,
       jsonb_build_object(
           'id', ec.id,
           'email', ec.email,
           'provider', ec.provider,
           'status', ec.status,
           'member_id', ec.member_id,
           'allow_shared_sending', ec.allow_shared_sending,
           'created_at', {api_time("ec.created_at")}
       ) AS data
FROM {EmailConnection._meta.db_table} ec
WHERE ec.id = ANY(%(ids)s)
"""  # noqa: S608 (the table name is ours; the ids are a parameter)


def register() -> None:
    register_subject(EMAIL_CONNECTION, EMAIL_CONNECTION_SELECT)

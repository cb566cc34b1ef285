"""Ready auto-send reminders for bench_send.py, written set-based (INSERT ... SELECT).

A company gets `connections` mailboxes, one auto-send sequence of one reminder step per mailbox, and
`per_connection` ready rows on each: enrollment e is customer e // connections in sequence
e % connections, so a customer is never twice in one sequence and every mailbox gets the same share.
"""

import datetime
import uuid

from django.db import connection
from django.utils import timezone

from connections.models import EmailConnection
from daylit.models import Company
from sequences.models import Sequence, SequenceStep


def sql(statement: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or {})
        return cursor.rowcount


def reset() -> None:
    """The bench database is the bench's own: every run starts from no companies."""
    sql("TRUNCATE daylit_company, connections_mailboxpacing CASCADE")


def seed_company(*, name: str, connections: int, per_connection: int, age: datetime.timedelta) -> Company:
    """A company whose `connections * per_connection` reminders are ready, scheduled `age` ago."""
    company = Company.objects.create(name=name)
    tag = uuid.uuid4().hex[:8]
    mailboxes = EmailConnection.objects.bulk_create(
        EmailConnection(company=company, email=f"ar{i}@{tag}.example", grant_id=f"grant-{tag}-{i:05d}")
        for i in range(connections)
    )
    sequences = Sequence.objects.bulk_create(
        Sequence(
            company=company,
            name=f"Auto chase {i:05d}",
            status=Sequence.Status.ACTIVE,
            auto_send=True,
            sender_connection=mailbox,
            timezone="UTC",
        )
        for i, mailbox in enumerate(mailboxes)
    )
    SequenceStep.objects.bulk_create(
        SequenceStep(
            sequence=sequence,
            label="Day 0",
            offset_days=0,
            subject_template="Invoice {{ invoice.number }} is due",
            body_plain_template="Hello {{ customer.name }}, please pay.",
        )
        for sequence in sequences
    )
    params = {
        "c": str(company.pk),
        "customers": per_connection,
        "rows": connections * per_connection,
        "connections": connections,
        "scheduled_for": timezone.now() - age,
    }
    sql(
        """INSERT INTO daylit_customer (id, company_id, name, email, created_at)
           SELECT gen_random_uuid(), %(c)s, 'Customer ' || i, 'ap' || i || '@customer.example', now()
           FROM generate_series(0, %(customers)s - 1) i""",
        params,
    )
    sql(
        """WITH cust AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM daylit_customer
                         WHERE company_id = %(c)s),
                seq AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM sequences_sequence
                        WHERE company_id = %(c)s)
           INSERT INTO enrollments_enrollment (id, company_id, sequence_id, customer_id, status, start_date,
                                               time_zone, created_at, updated_at)
           SELECT gen_random_uuid(), %(c)s, seq.id, cust.id, 'active', current_date, 'UTC', now(), now()
           FROM generate_series(0, %(rows)s - 1) e
           JOIN cust ON cust.n = e / %(connections)s
           JOIN seq ON seq.n = e %% %(connections)s""",
        params,
    )
    # Scheduled one microsecond apart in enrollment order, so "oldest first" is one fixed order.
    sql(
        """INSERT INTO enrollments_scheduledstep (id, company_id, enrollment_id, sequence_id, step_id,
               customer_id, step_type, status, scheduled_for, ready_at, to_email, subject, body_plain,
               body_html, provider_message_id, provider_thread_id, error, notes, attempts, created_at,
               updated_at)
           SELECT gen_random_uuid(), %(c)s, e.id, e.sequence_id, st.id, e.customer_id, 'reminder', 'ready',
                  %(scheduled_for)s + (row_number() OVER (ORDER BY e.id)) * interval '1 microsecond',
                  now(), cu.email, 'Invoice for ' || cu.name || ' is due',
                  'Hello ' || cu.name || ', please pay.',
                  '', '', '', '', '', 0, now(), now()
           FROM enrollments_enrollment e
           JOIN daylit_customer cu ON cu.id = e.customer_id
           JOIN sequences_sequencestep st ON st.sequence_id = e.sequence_id
           WHERE e.company_id = %(c)s""",
        params,
    )
    return company

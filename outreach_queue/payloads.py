"""The queue's subjects as events' `data`, built in SQL (see events.subjects;
tests/outreach_queue/test_payloads.py holds each equal to its serializer's output):

- `queue_row`: QueueRowSerializer's shape (with its step label, sequence name and customer name); the
  row's table is the enrollments app's ScheduledStep. Its `warnings` are the expression the queue's
  reads use (email_gap.warnings_sql), as of the event's transaction.
- `reply`: ReplySerializer's shape (SPEC Part 2's reply fields that exist so far).
"""

from daylit.models import Company, Customer
from enrollments.models import Enrollment, ScheduledStep
from enrollments.payloads import QUEUE_ROW
from events.subjects import api_date, api_time, register_subject
from outreach_queue.email_gap import warnings_sql
from outreach_queue.models import Reply
from sequences.models import Sequence, SequenceStep

REPLY = "reply"

QUEUE_ROW_SELECT = f"""
SELECT s.id, s.company_id, s.customer_id, s.enrollment_id,
       jsonb_build_object(
           'id', s.id,
           'status', s.status,
           'step_type', s.step_type,
           'step_id', s.step_id,
           'step_label', st.label,
           'sequence_id', s.sequence_id,
           'sequence_name', sq.name,
           'enrollment_id', s.enrollment_id,
           'enrollment_status', en.status,
           'customer_id', s.customer_id,
           'customer_name', c.name,
           'scheduled_for', {api_time("s.scheduled_for")},
           'ready_at', {api_time("s.ready_at")},
           'processed_at', {api_time("s.processed_at")},
           'to_email', s.to_email,
           'subject', s.subject,
           'body_plain', s.body_plain,
           'body_html', s.body_html,
           'sender_connection_id', s.sender_connection_id,
           'provider_message_id', s.provider_message_id,
           'provider_thread_id', s.provider_thread_id,
           'error', s.error,
           'notes', s.notes,
           'generated', s.generated,
           'prompt_version', s.prompt_version,
           'draft_pending', s.draft_pending,
           'schedule_note', s.schedule_note,
           'variant_key', s.variant_key,
           'warnings', {warnings_sql(row="s", gap_hours="co.min_hours_between_emails")}
       ) AS data
FROM {ScheduledStep._meta.db_table} s
JOIN {SequenceStep._meta.db_table} st ON st.id = s.step_id
JOIN {Sequence._meta.db_table} sq ON sq.id = s.sequence_id
JOIN {Customer._meta.db_table} c ON c.id = s.customer_id
JOIN {Company._meta.db_table} co ON co.id = s.company_id
JOIN {Enrollment._meta.db_table} en ON en.id = s.enrollment_id
WHERE s.id = ANY(%(ids)s)
"""  # noqa: S608 (table names are ours; the ids are a parameter)


REPLY_SELECT = f"""
SELECT r.id, r.company_id, r.customer_id, r.enrollment_id,
       jsonb_build_object(
           'id', r.id,
           'customer_id', r.customer_id,
           'enrollment_id', r.enrollment_id,
           'invoice_id', r.invoice_id,
           'from_email', r.from_email,
           'subject', r.subject,
           'received_at', {api_time("r.received_at")},
           'text', r.text,
           'classification', r.classification,
           'confidence', r.confidence,
           'return_date', {api_date("r.return_date")},
           'promised_date', {api_date("r.promised_date")},
           'promised_amount', r.promised_amount::text,
           'action', r.action,
           'reviewed_at', {api_time("r.reviewed_at")}
       ) AS data
FROM {Reply._meta.db_table} r
WHERE r.id = ANY(%(ids)s)
"""  # noqa: S608 (the table name is ours; the ids are a parameter)


def register() -> None:
    register_subject(QUEUE_ROW, QUEUE_ROW_SELECT)
    register_subject(REPLY, REPLY_SELECT)

"""An enrollment as an event's `data`: the API's EnrollmentSerializer shape, built in SQL (see
events.subjects; tests/enrollments/test_payloads.py holds the two equal)."""

from events.subjects import api_date, api_time, register_subject

ENROLLMENT = "enrollment"
# A ScheduledStep as the queue API shows it. The queue app registers its payload (outreach_queue/payloads.py,
# the shape of its serializer); this app records its events too, for the rows it cancels when an
# enrollment stops, by name (no import upward).
QUEUE_ROW = "queue_row"

ENROLLMENT_SELECT = f"""
SELECT e.id, e.company_id, e.customer_id, e.id AS enrollment_id,
       jsonb_build_object(
           'id', e.id,
           'sequence_id', e.sequence_id,
           'customer_id', e.customer_id,
           'invoice_id', e.invoice_id,
           'status', e.status,
           'start_date', {api_date("e.start_date")},
           'time_zone', e.time_zone,
           'stop_reason', e.stop_reason,
           'completed_at', {api_time("e.completed_at")},
           'paused_at', {api_time("e.paused_at")},
           'paused_until', {api_time("e.paused_until")},
           'pause_reason', e.pause_reason,
           'created_at', {api_time("e.created_at")}
       ) AS data
FROM enrollments_enrollment e
WHERE e.id = ANY(%(ids)s)
"""


def register() -> None:
    register_subject(ENROLLMENT, ENROLLMENT_SELECT)

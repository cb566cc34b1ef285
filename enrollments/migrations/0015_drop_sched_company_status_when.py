"""`sched_company_status_when` (company, status, scheduled_for) served none of the app's queries.

Measured with `pg_stat_user_indexes` (idx_scan after `pg_stat_reset()`) under bench_queue, bench_enroll,
bench_resume and bench_send, each scan traced to its statement: the only ones were the benchmarks'
own (bench_queue's bare `count(*)` baseline, bench_send's polling for unsettled rows, the cleanups'
`DELETE ... WHERE company_id`). EXPLAIN of every queue read at 1,000,000 rows agrees: each tab's page
and filtered count reads its covering partial index (queue_ready, queue_upcoming, queue_history and
their owner-led twins), promotion's probe and batches `queue_upcoming` or `sched_due_scheduled`, the
reconciler `sched_sending_since`, the auto-send plan `queue_ready`; timed with the index and without
it (dropped in a rolled-back transaction), in turns, the same. The per-minute auto-send count is no
query of this table (connections.MailboxPacing, by primary key). Meanwhile every insert and every
status change (never a HOT update) wrote an entry to it.

What it still did: it was the only index leading with `company_id`, the company foreign key's. The
app never deletes a company (no endpoint; the admin refuses), so only a delete made outside it scans
the table for the company's rows.

Dropped CONCURRENTLY (the migration is not atomic): writers go on meanwhile.
"""

from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("enrollments", "0013_scheduledstep_variant_key")]

    operations = [RemoveIndexConcurrently(model_name="scheduledstep", name="sched_company_status_when")]

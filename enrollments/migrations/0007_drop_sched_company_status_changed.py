"""`sched_company_status_changed` (company, status, updated_at) served no query: the history tab reads
its covering index (queue.0002), and the reconciler and the per-mailbox rate count filter without a
company. Its write on every status change goes to the owner-led tab indexes of queue.0006 instead."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('enrollments', '0006_scheduledstep_subject_lower'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='scheduledstep',
            name='sched_company_status_changed',
        ),
    ]

"""An index of the rows in `sending`, for the reconciler (`queue.reconcile_sending`, every minute),
which looks across companies for rows stuck there: it walked the whole (company, status, time) index,
~1,000,000 entries at the benchmark's size, to find none. Rows pass through `sending` for a moment,
so the index holds a handful of entries."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enrollments', '0008_drop_sched_enrollment_status'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='scheduledstep',
            index=models.Index(condition=models.Q(('status', 'sending')), fields=['updated_at'], name='sched_sending_since'),
        ),
    ]

"""An index of sent rows by the provider's message id: replies and bounces look rows up by it, and went
through the sender index (every row a mailbox ever sent). Built CONCURRENTLY (not atomic)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("enrollments", "0009_scheduledstep_sending_index")]

    operations = [
        AddIndexConcurrently(
            model_name="scheduledstep",
            index=models.Index(
                condition=~models.Q(provider_message_id=""),
                fields=["provider_message_id"],
                name="sched_provider_message",
            ),
        )
    ]

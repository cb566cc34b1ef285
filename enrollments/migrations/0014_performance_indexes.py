"""Indexes for a sequence's performance (outreach_queue.performance; plans in docs/performance.md): each
statement a range scan, index-only, of the rows or enrollments its range can count. Built CONCURRENTLY
(not atomic)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("enrollments", "0013_scheduledstep_variant_key")]

    operations = [
        AddIndexConcurrently(
            model_name="scheduledstep",
            index=models.Index(
                fields=["sequence", "processed_at"],
                include=["step", "variant_key", "status", "enrollment", "ready_at"],
                name="sched_performance",
            ),
        ),
        AddIndexConcurrently(
            model_name="scheduledstep",
            index=models.Index(
                condition=models.Q(("step_type", "reminder")),
                fields=["sequence", "scheduled_for"],
                include=["step", "variant_key", "enrollment"],
                name="sched_experiment",
            ),
        ),
        AddIndexConcurrently(
            model_name="scheduledstep",
            index=models.Index(
                condition=models.Q(("error__startswith", "bounced:"), ("status", "sent")),
                fields=["sequence", "processed_at"],
                include=["step"],
                name="sched_bounced",
            ),
        ),
        AddIndexConcurrently(
            model_name="enrollment",
            index=models.Index(
                fields=["sequence", "created_at"], include=["status"], name="enroll_performance"
            ),
        ),
        AddIndexConcurrently(
            model_name="enrollment",
            index=models.Index(
                condition=models.Q(("status", "completed")),
                fields=["sequence", "completed_at"],
                include=["stop_reason"],
                name="enroll_completed",
            ),
        ),
        AddIndexConcurrently(
            model_name="enrollment",
            index=models.Index(
                condition=models.Q(("invoice__isnull", True)),
                fields=["sequence"],
                include=["customer", "created_at", "completed_at"],
                name="enroll_customer_level",
            ),
        ),
    ]

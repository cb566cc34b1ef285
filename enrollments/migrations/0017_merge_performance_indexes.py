"""Joins the two branches that grew from 0013 at the same time: the performance indexes (0014) and the
queue's index changes (0015-0016). No operations."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("enrollments", "0014_performance_indexes"),
        ("enrollments", "0016_queue_indexes_adopted"),
    ]

    operations = []

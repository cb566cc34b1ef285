"""Replies heard in the threads of sent rows (queue.Reply): what `reply.received` describes."""

import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0003_webhook_event_type_255"),
        ("daylit", "0002_customer_name_lower"),
        ("enrollments", "0010_scheduledstep_provider_message_index"),
        ("queue", "0008_drop_queue_subject_upcoming"),
    ]

    operations = [
        migrations.CreateModel(
            name="Reply",
            fields=[
                (
                    "id",
                    models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False),
                ),
                ("provider_message_id", models.CharField(blank=True, default="", max_length=255)),
                ("provider_thread_id", models.CharField(blank=True, default="", max_length=255)),
                ("from_email", models.CharField(blank=True, default="", max_length=254)),
                ("subject", models.TextField(blank=True, default="")),
                ("text", models.TextField(blank=True, default="")),
                ("received_at", models.DateTimeField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "company",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="daylit.company",
                    ),
                ),
                (
                    "connection",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="connections.emailconnection",
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="daylit.customer"
                    ),
                ),
                (
                    "enrollment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="replies",
                        to="enrollments.enrollment",
                    ),
                ),
                (
                    "invoice",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="daylit.invoice",
                    ),
                ),
                (
                    "row",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="enrollments.scheduledstep",
                    ),
                ),
            ],
            options={
                "db_table": "queue_reply",
                "indexes": [
                    models.Index(fields=["company", "-received_at"], name="queue_reply_company_recent")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("provider_message_id", ""), _negated=True),
                        fields=("connection", "provider_message_id"),
                        name="queue_reply_once_per_message",
                    )
                ],
            },
        ),
    ]

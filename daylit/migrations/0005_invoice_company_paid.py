"""A company's paid invoices by `paid_at` (outreach_queue.performance), built without locking writes."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("daylit", "0004_promises_disputes")]

    operations = [
        AddIndexConcurrently(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(status="paid"),
                fields=["company", "paid_at"],
                include=["id", "currency", "amount_due"],
                name="invoice_company_paid",
            ),
        ),
    ]

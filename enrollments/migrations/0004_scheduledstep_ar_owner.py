"""ScheduledStep.ar_owner_id: the customer's owner, copied for the queue's owner filter.

Two triggers keep the copy right whatever writes the data (ORM, set-based INSERT ...
SELECT fan-out, admin, raw SQL, Django's SET NULL when a member is deleted):
- BEFORE INSERT OR UPDATE OF customer_id on the row: copy the customer's owner;
- AFTER UPDATE on daylit_customer, per statement with transition tables: one set-based UPDATE of the
  rows of the customers whose owner changed.
"""

from django.db import migrations, models

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION enrollments_sched_copy_ar_owner() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT c.ar_owner_id INTO NEW.ar_owner_id FROM daylit_customer c WHERE c.id = NEW.customer_id;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER enrollments_sched_ar_owner BEFORE INSERT OR UPDATE OF customer_id
    ON enrollments_scheduledstep FOR EACH ROW EXECUTE FUNCTION enrollments_sched_copy_ar_owner()
    """,
    """
    CREATE OR REPLACE FUNCTION enrollments_customer_ar_owner_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE enrollments_scheduledstep s SET ar_owner_id = n.ar_owner_id
        FROM new_customers n JOIN old_customers o ON o.id = n.id
        WHERE s.customer_id = n.id AND n.ar_owner_id IS DISTINCT FROM o.ar_owner_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER enrollments_customer_ar_owner AFTER UPDATE ON daylit_customer
    REFERENCING OLD TABLE AS old_customers NEW TABLE AS new_customers
    FOR EACH STATEMENT EXECUTE FUNCTION enrollments_customer_ar_owner_changed()
    """,
    """
    UPDATE enrollments_scheduledstep s SET ar_owner_id = c.ar_owner_id
    FROM daylit_customer c WHERE c.id = s.customer_id AND c.ar_owner_id IS NOT NULL
    """,
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS enrollments_customer_ar_owner ON daylit_customer",
    "DROP FUNCTION IF EXISTS enrollments_customer_ar_owner_changed()",
    "DROP TRIGGER IF EXISTS enrollments_sched_ar_owner ON enrollments_scheduledstep",
    "DROP FUNCTION IF EXISTS enrollments_sched_copy_ar_owner()",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("daylit", "0001_initial"),
        ("enrollments", "0003_scheduledstep_ai_drafts"),
    ]

    operations = [
        migrations.AddField(
            model_name="scheduledstep",
            name="ar_owner_id",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]

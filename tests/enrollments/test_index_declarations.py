"""ScheduledStep's indexes are the model's: every one in the database is declared in its Meta, built
exactly as declared, and the migrations leave nothing for `makemigrations` to add."""

import pytest
from django.core.management import call_command
from django.db import connection

from enrollments.models import ScheduledStep

pytestmark = pytest.mark.django_db

TABLE = ScheduledStep._meta.db_table


def _definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [TABLE])
        return dict(cursor.fetchall())


def test_the_migrations_leave_no_model_change_behind():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # SystemExit(1) on a change


def test_every_index_of_the_table_is_declared_by_the_model():
    """Only Django's own indexes (primary key, unique constraint, foreign keys) are undeclared: an index
    built by raw SQL somewhere (as the queue app's migrations once did) would be an extra name."""
    declared = {index.name for index in ScheduledStep._meta.indexes}
    constraints = {constraint.name for constraint in ScheduledStep._meta.constraints}
    extra = set(_definitions()) - declared - constraints - {f"{TABLE}_pkey"}
    foreign_keys = {field.column for field in ScheduledStep._meta.concrete_fields if field.is_relation}
    assert all(name.startswith(f"{TABLE}_") for name in extra), extra
    assert len(extra) <= len(foreign_keys)
    assert declared <= set(_definitions())


@pytest.mark.parametrize("index", ScheduledStep._meta.indexes, ids=lambda index: index.name)
def test_each_index_is_built_as_the_model_declares_it(index):
    """Build the declared index under another name (rolled back with the test) and compare PostgreSQL's
    own definitions of both: columns, order, INCLUDE, operator class and predicate."""
    twin = index.clone()
    twin.name = f"twin_{index.name}"[:30]
    with connection.schema_editor() as editor:
        editor.add_index(ScheduledStep, twin)
    definitions = _definitions()
    assert definitions[index.name] == definitions[twin.name].replace(twin.name, index.name, 1)

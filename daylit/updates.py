"""`QuerySet.update()` that also says which rows it changed: `UPDATE ... RETURNING pk`.

A conditional, set-based UPDATE (`WHERE status = 'active'`) decides under the row locks which rows
move; the events of exactly those rows are recorded after it. Reading the ids first (or again after)
would be a second query that a concurrent writer can make disagree with what the UPDATE did.
"""

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet, sql


def update_returning_pks(queryset: QuerySet, **values: Any) -> list:
    """`queryset.update(**values)`, returning the primary keys of the rows it updated (one statement).

    The same SQL Django's `update()` builds (filters across relations become `pk IN (subquery)`), with
    `RETURNING` added; only for plain updates (no multi-table inheritance).
    """
    if queryset.query.is_sliced:
        raise TypeError("Cannot update a query once a slice has been taken.")
    query = queryset.query.chain(sql.UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    compiler = query.get_compiler(queryset.db)
    try:
        statement, params = compiler.as_sql()
    except EmptyResultSet:  # e.g. pk__in=[]: nothing can match
        return []
    if not statement:
        return []
    connection = connections[queryset.db]
    opts = queryset.model._meta
    pk = f"{connection.ops.quote_name(opts.db_table)}.{connection.ops.quote_name(opts.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} RETURNING {pk}", params)
        return [row[0] for row in cursor.fetchall()]

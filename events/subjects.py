"""How each kind of subject becomes an event's `data`: a hook the apps above register into.

An app registers, for its subject type, one SQL SELECT that returns, for the objects whose ids are in
`%(ids)s`, the columns `id, company_id, customer_id, enrollment_id, data`; `data` is a jsonb object in
the shape the API returns the object (each app tests that its payload equals its serializer's output).
Built in SQL so recording the events of 100,000 rows is one INSERT ... SELECT, not a serializer per row.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Subject:
    name: str
    select: str


_SUBJECTS: dict[str, Subject] = {}


def register_subject(name: str, select: str) -> None:
    """Called from an app's AppConfig.ready()."""
    if "%(ids)s" not in select:
        raise ValueError(f"the payload query of {name} must filter on %(ids)s")
    _SUBJECTS[name] = Subject(name=name, select=select)


def subject(name: str) -> Subject:
    try:
        return _SUBJECTS[name]
    except KeyError:
        raise LookupError(f"no payload query registered for subject {name!r}") from None


def api_time(column: str) -> str:
    """SQL: a timestamptz as the API writes it (ISO 8601 UTC with microseconds and `Z`), or null."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def api_date(column: str) -> str:
    return f"to_char({column}, 'YYYY-MM-DD')"

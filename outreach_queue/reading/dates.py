"""The return date an out-of-office message gives, read with `dateparser`.

Decisions (docs/replies.md, "Reading a reply"):
- `return_date` is the date the message names for the end of the absence, as written: the end of a
  range ("from 3 to 10 March" -> 10 March), the "until" date, or the "back on" date. It is not
  shifted by a day either way, so a person checking it against the message sees the same date; the
  pause covers that whole day (SPEC: until 00:00 of the day after), so no reminder lands on a day
  the message names as away.
- Only dates written after a return cue ("until", "bis", "jusqu'au", ...) count: a message also
  carries the date it was written, phone numbers and ticket numbers.
- Dates are read relative to the reply's receipt in the schedule's zone, future dates preferred
  ("Monday", "next Monday", "the 15th" are the next ones); a date before the day of receipt is
  never returned (None, and the caller's 72-hour default applies).
- Numbers are read day first (15.03., 3/10 = 3 October), as all seven languages write them, except
  ISO dates (2026-03-15).
"""

import datetime
import re
import zoneinfo

from outreach_queue.reading.phrases import COMPILED

_SNIPPET_LENGTH = 70
# "15.03." with no year: dateparser reads it as the time 15:03, so the year is written in first.
_DAY_MONTH_DOT = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(?!\d)")
# Between two dates, these make a range whose end is the return date.
_RANGE_JOINER = re.compile(
    r"^\W*(?:to|until|till|through|thru|and|-|–|—|bis(?: zum| einschließlich)?|au|à|jusqu['’](?:au|à)|al|a|"
    r"hasta(?: el)?|fino al?|tot(?: en met)?|t/m|até(?: ao| dia)?|ao)\W*$",
    re.IGNORECASE,
)
# The date of the message itself, or of the email it quotes, is no return date.
_CUT_SNIPPET = re.compile(r"\n|(?<!\d)[.!?;](?:\s|$)|(?<=\d{4})[.!?;](?:\s|$)")


def schedule_zone(time_zone: str) -> datetime.tzinfo:
    """The schedule's zone; an unknown name reads as UTC rather than failing the reading."""
    try:
        return zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def local_now(received_at: datetime.datetime, time_zone: str) -> datetime.datetime:
    """`received_at` (naive means UTC) as a naive wall-clock time in the schedule's zone."""
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=datetime.UTC)
    return received_at.astimezone(schedule_zone(time_zone)).replace(tzinfo=None)


def _snippets(text: str, language: str):
    for cue in COMPILED[language]["cue"].finditer(text):
        snippet = text[cue.end() : cue.end() + _SNIPPET_LENGTH]
        cut = _CUT_SNIPPET.search(snippet)
        yield snippet[: cut.start()] if cut else snippet


def _found_date(snippet: str, *, language: str, now: datetime.datetime) -> datetime.date | None:
    from dateparser.search import search_dates  # ~0.7 s to import: paid only when an auto-reply has a cue

    snippet = _DAY_MONTH_DOT.sub(lambda m: f"{m[1]}.{m[2]}.{now.year}", snippet)
    settings = {
        "RELATIVE_BASE": now,
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": False,
    }
    try:
        found = search_dates(snippet, languages=[language], settings=settings) or []
    except Exception:  # noqa: BLE001 dateparser raises assorted errors on odd text; no date is the answer
        return None
    # A year-less date already past this year (a "15.03." written in November) is next year's.
    dates = [_not_past(moment.date(), text, now) for text, moment in found if re.search(r"\d|\w{3}", text)]
    dates = [d for d in dates if d is not None]
    if not dates:
        return None
    if len(found) >= 2 and len(dates) >= 2:
        first, second = found[0][0], found[1][0]
        between = snippet[snippet.find(first) + len(first) : snippet.find(second, snippet.find(first) + 1)]
        if _RANGE_JOINER.match(between):
            return dates[1]
    return dates[0]


def _not_past(day: datetime.date, written: str, now: datetime.datetime) -> datetime.date | None:
    today = now.date()
    if day >= today:
        return day
    if not re.search(r"\b\d{4}\b", written):
        try:
            later = day.replace(year=day.year + 1)
        except ValueError:  # 29 February
            return None
        return later if later >= today else None
    return None


def return_date(
    *, text: str, language: str, received_at: datetime.datetime, time_zone: str = "UTC"
) -> datetime.date | None:
    """The first date written after a return cue in `language`, never before the day of receipt."""
    now = local_now(received_at, time_zone)
    for snippet in _snippets(text, language):
        if not re.search(r"\d|\w{4}", snippet):
            continue
        day = _found_date(snippet, language=language, now=now)
        if day is not None:
            return day
    return None

"""Return dates: relative to receipt in the schedule's zone, the end of a range, never in the past."""

import datetime

import pytest

from outreach_queue.reading.dates import return_date

WEDNESDAY = datetime.datetime(2026, 3, 4, 9, 0, tzinfo=datetime.UTC)


def read(text, language="en", received_at=WEDNESDAY, time_zone="Europe/Berlin"):
    return return_date(text=text, language=language, received_at=received_at, time_zone=time_zone)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "I am away until Monday.", datetime.date(2026, 3, 9)),
        ("en", "I am away until next Monday.", datetime.date(2026, 3, 9)),
        ("en", "I will be back on the 15th.", datetime.date(2026, 3, 15)),
        ("en", "Out from 3 March to 10 March.", datetime.date(2026, 3, 10)),
        ("de", "Ich bin vom 2. bis 11. März im Urlaub.", datetime.date(2026, 3, 11)),
        ("de", "Ab dem 16.03. wieder im Büro.", datetime.date(2026, 3, 16)),
        ("fr", "Absente du 3 au 10 mars.", datetime.date(2026, 3, 10)),
        ("es", "Fuera hasta el próximo lunes.", datetime.date(2026, 3, 9)),
        ("it", "In ferie dal 3 al 10 marzo.", datetime.date(2026, 3, 10)),
        ("nl", "Afwezig tot en met 13 maart.", datetime.date(2026, 3, 13)),
        ("pt", "Ausente até segunda-feira.", datetime.date(2026, 3, 9)),
    ],
)
def test_dates_in_the_seven_languages(language, text, expected):
    assert read(text, language) == expected


def test_a_stated_date_before_receipt_is_none():
    assert read("Out of the office until 2 March 2026.") is None


def test_a_yearless_date_already_past_is_next_years():
    december = datetime.datetime(2026, 12, 22, 9, 0, tzinfo=datetime.UTC)
    assert read("On holiday until 5 January.", received_at=december) == datetime.date(2027, 1, 5)


def test_weekdays_are_read_in_the_schedule_zone():
    # 23:30 UTC on Wednesday is Thursday in Berlin but still Wednesday in New York.
    late = datetime.datetime(2026, 3, 4, 23, 30, tzinfo=datetime.UTC)
    assert read("Away until tomorrow.", received_at=late) == datetime.date(2026, 3, 6)
    assert read("Away until tomorrow.", received_at=late, time_zone="America/New_York") == datetime.date(
        2026, 3, 5
    )


def test_no_cue_no_date():
    # The date of writing and phone numbers are no return date.
    assert read("Written on 10 March. Call +44 20 7946 0018.") is None


def test_an_unknown_zone_reads_as_utc():
    assert read("Away until Monday.", time_zone="Mars/Olympus") == datetime.date(2026, 3, 9)

"""The codes a collections calendar is written in: weekdays, IANA zones, `holidays` country codes.

Pure (no Django): the core app's serializers, the sequences app and the planning module
(`enrollments.calendar`) all validate against these, so a code accepted by the API is one the planner
knows.
"""

import functools
import zoneinfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
ALL_DAYS = frozenset(WEEKDAYS)


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_valid_timezone(name: str) -> bool:
    """True for an IANA zone name this machine knows (e.g. America/New_York)."""
    return isinstance(name, str) and name in _timezones()


@functools.cache
def _supported() -> dict[str, tuple[str, ...]]:
    return {
        country: tuple(subdivisions)
        for country, subdivisions in holidays.list_supported_countries(include_aliases=False).items()
    }


def countries() -> tuple[str, ...]:
    """Every country code the holiday calendar knows, sorted (the API's enum)."""
    return tuple(sorted(_supported()))


def is_known_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 code the `holidays` package covers, exact case ("GB", not "UK" or "gb")."""
    return isinstance(code, str) and code in _supported()


def is_known_subdivision(country: str, code: str) -> bool:
    """A subdivision code the `holidays` package knows for `country` ("ENG" for "GB", "BY" for "DE")."""
    return isinstance(code, str) and code in _supported().get(country, ())


def subdivisions_of(country: str) -> tuple[str, ...]:
    return _supported().get(country, ())

"""GET|PATCH /api/companies/{id}/settings: every member reads, only an admin changes (403 `admin_only`)."""

import pytest
from rest_framework.test import APIClient

from daylit.models import Company, Member
from daylit.services import api_token_issue
from tests.conftest import company_url
from tests.factories.core import MemberFactory

pytestmark = pytest.mark.django_db

DEFAULTS = {"country": None, "subdivision": None, "promise_grace_days": 2, "min_hours_between_emails": 0}


def settings_url(company) -> str:
    return company_url(company, "settings")


@pytest.fixture
def member_api(company):
    """A plain member (not an admin) of `company`."""
    plain = MemberFactory(company=company, role=Member.Role.MEMBER)
    _, key = api_token_issue(user=plain.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def stored(company) -> dict:
    return {field: getattr(Company.objects.get(pk=company.pk), field) for field in DEFAULTS}


def test_no_token_is_401(anon, company):
    assert anon.get(settings_url(company)).status_code == 401
    assert anon.patch(settings_url(company), {"promise_grace_days": 5}, format="json").status_code == 401


def test_another_companys_settings_do_not_exist(outsider_api, company):
    assert outsider_api.get(settings_url(company)).json() == {
        "detail": "Company not found.",
        "code": "not_found",
    }
    response = outsider_api.patch(settings_url(company), {"promise_grace_days": 5}, format="json")
    assert response.status_code == 404
    assert stored(company) == DEFAULTS


def test_a_plain_member_reads_the_defaults(member_api, company):
    response = member_api.get(settings_url(company))
    assert response.status_code == 200
    assert response.json() == DEFAULTS


def test_an_admin_changes_them_and_fields_left_out_keep_their_values(api, company, member):
    assert member.role == Member.Role.ADMIN
    url = settings_url(company)
    body = {"country": "GB", "subdivision": "ENG", "promise_grace_days": 5, "min_hours_between_emails": 24}
    response = api.patch(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == body == stored(company)

    response = api.patch(url, {"min_hours_between_emails": 0}, format="json")
    assert response.json() == {**body, "min_hours_between_emails": 0}
    assert api.get(url).json() == {**body, "min_hours_between_emails": 0}


def test_the_same_values_again_and_an_empty_body_change_nothing(api, company):
    url = settings_url(company)
    body = {"country": "DE", "subdivision": "BY"}
    assert api.patch(url, body, format="json").json() == {**DEFAULTS, **body}
    assert api.patch(url, body, format="json").json() == {**DEFAULTS, **body}
    assert api.patch(url, {}, format="json").json() == {**DEFAULTS, **body}


@pytest.mark.parametrize(
    "body",
    [
        {"promise_grace_days": 0, "min_hours_between_emails": 0},
        {"promise_grace_days": 30, "min_hours_between_emails": 720},
        {"country": "US", "subdivision": "CA"},
        {"country": "AU", "subdivision": "NSW"},
        {"country": "JP"},
        {"country": None, "subdivision": None},
    ],
)
def test_the_ends_of_the_ranges_and_real_calendars_are_accepted(api, company, body):
    response = api.patch(settings_url(company), body, format="json")
    assert response.status_code == 200, response.json()
    assert stored(company) == {**DEFAULTS, **body}


def test_a_plain_member_may_not_change_them_and_learns_that_before_any_validation(member_api, company):
    for body in ({"promise_grace_days": 5}, {"promise_grace_days": 99, "country": "UK"}):
        response = member_api.patch(settings_url(company), body, format="json")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only a company admin may change the company settings: they apply to every sequence "
            "and customer of the company.",
            "code": "admin_only",
        }
    assert stored(company) == DEFAULTS


@pytest.mark.parametrize(
    "body, field, message",
    [
        (
            {"country": "UK"},
            "country",
            "'UK' is not a country code the holiday calendar knows; use ISO 3166-1 alpha-2 such as \"GB\".",
        ),
        (
            {"country": "gb"},
            "country",
            "'gb' is not a country code the holiday calendar knows; codes are upper case: \"GB\".",
        ),
        ({"country": "GBR"}, "country", "'GBR' is not a country code the holiday calendar knows"),
        ({"country": "XX"}, "country", "'XX' is not a country code the holiday calendar knows"),
        ({"country": ""}, "country", 'Use null for no country; "" is not a country code.'),
        ({"country": 44}, "country", "Expected a string, got a number."),
        (
            {"subdivision": "ENG"},
            "subdivision",
            "A subdivision needs a country: set country too, or send null.",
        ),
        (
            {"country": "GB", "subdivision": "BY"},
            "subdivision",
            "'BY' is not a subdivision the holiday calendar knows for GB; use one of ENG, NIR, SCT, WLS.",
        ),
        (
            {"country": "DE", "subdivision": "ENG"},
            "subdivision",
            "'ENG' is not a subdivision the holiday calendar knows for DE; use a code such as BB, BE, BW, "
            "BY, HB, HE (17 in all).",
        ),
        (
            {"country": "JP", "subdivision": "13"},
            "subdivision",
            "'13' is not a subdivision the holiday calendar knows for JP, which has none; use null.",
        ),
        (
            {"country": "GB", "subdivision": "eng"},
            "subdivision",
            "'eng' is not a subdivision the holiday calendar knows for GB",
        ),
        ({"country": "GB", "subdivision": ""}, "subdivision", "Use null for no subdivision;"),
        ({"promise_grace_days": 31}, "promise_grace_days", "Ensure this value is less than or equal to 30."),
        (
            {"promise_grace_days": -1},
            "promise_grace_days",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"promise_grace_days": "3"}, "promise_grace_days", "Expected an integer, got a string."),
        ({"promise_grace_days": 2.5}, "promise_grace_days", "Expected an integer, got a number."),
        ({"promise_grace_days": True}, "promise_grace_days", "Expected an integer, got a boolean."),
        ({"promise_grace_days": None}, "promise_grace_days", "This field may not be null."),
        (
            {"min_hours_between_emails": 721},
            "min_hours_between_emails",
            "Ensure this value is less than or equal to 720.",
        ),
        ({"min_hours_between_emails": -1}, "min_hours_between_emails", "Ensure this value is greater than"),
        (
            {"min_hours_between_emails": "24"},
            "min_hours_between_emails",
            "Expected an integer, got a string.",
        ),
    ],
)
def test_bad_values_are_a_400_naming_the_field_and_nothing_changes(api, company, body, field, message):
    response = api.patch(settings_url(company), body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert errors[field][0].startswith(message), errors
    assert stored(company) == DEFAULTS


def test_a_new_country_must_not_leave_a_subdivision_of_the_old_one(api, company):
    url = settings_url(company)
    assert api.patch(url, {"country": "GB", "subdivision": "ENG"}, format="json").status_code == 200

    response = api.patch(url, {"country": "DE"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "subdivision": [
            "'ENG', the current subdivision, is not a subdivision the holiday calendar knows for DE; send "
            "a new subdivision (or null) with the new country: a code such as BB, BE, BW, BY, HB, HE (17 in "
            "all)."
        ]
    }
    response = api.patch(url, {"country": None}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["subdivision"]
    assert (stored(company)["country"], stored(company)["subdivision"]) == ("GB", "ENG")

    assert (
        api.patch(url, {"subdivision": "BY"}, format="json")
        .json()["subdivision"][0]
        .startswith("'BY' is not a subdivision the holiday calendar knows for GB")
    )
    assert api.patch(url, {"country": "DE", "subdivision": "BY"}, format="json").status_code == 200
    assert api.patch(url, {"subdivision": "HH"}, format="json").json()["subdivision"] == "HH"
    response = api.patch(url, {"country": "JP", "subdivision": None}, format="json")
    assert response.status_code == 200
    assert (response.json()["country"], response.json()["subdivision"]) == ("JP", None)

import pytest

from daylit.models import Customer
from tests.conftest import company_url
from tests.factories.core import CustomerFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_list_requires_token(anon, company):
    response = anon.get(company_url(company, "customers"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_bad_token_is_401(anon, company):
    anon.credentials(HTTP_AUTHORIZATION="Token nope")
    assert anon.get(company_url(company, "customers")).status_code == 401


def test_non_member_gets_404(outsider_api, company):
    CustomerFactory(company=company)
    response = outsider_api.get(company_url(company, "customers"))
    assert response.status_code == 404
    assert "data" not in response.json()


def test_create_and_list(api, company, member):
    response = api.post(
        company_url(company, "customers"),
        {"name": "Acme", "email": "ap@acme.example", "ar_owner_id": str(member.id)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["ar_owner_id"] == str(member.id)
    listing = api.get(company_url(company, "customers")).json()
    assert listing["count"] == 1 and listing["page"] == 1 and listing["page_size"] == 20
    assert listing["data"][0]["id"] == body["id"]


def test_ar_owner_of_other_company_does_not_exist(api, company, other_company):
    foreign = MemberFactory(company=other_company)
    response = api.post(
        company_url(company, "customers"), {"name": "Acme", "ar_owner_id": str(foreign.id)}, format="json"
    )
    assert response.status_code == 400
    assert "ar_owner_id" in response.json()


def test_patch_customer(api, company):
    customer = CustomerFactory(company=company)
    response = api.patch(company_url(company, f"customers/{customer.id}"), {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.name == "Renamed"


def test_customer_of_other_company_is_404(api, company, other_company):
    foreign = CustomerFactory(company=other_company)
    assert api.get(company_url(company, f"customers/{foreign.id}")).status_code == 404


def test_search_by_name_in_any_case_with_like_signs_taken_literally(api, company):
    societe = CustomerFactory(company=company, name="Société 100% Générale")
    CustomerFactory(company=company, name="Societe 1000 Generale")
    url = company_url(company, "customers")

    def ids(term):
        return {c["id"] for c in api.get(url, {"search": term}).json()["data"]}

    assert ids("SOCIÉTÉ") == {str(societe.pk)}
    assert ids("100%") == {str(societe.pk)}


# --- The customer's calendar: timezone, country, subdivision ------------------------------------------

CALENDAR_UNSET = {"timezone": None, "country": None, "subdivision": None}


def calendar_of(customer) -> dict:
    customer.refresh_from_db()
    return {field: getattr(customer, field) for field in CALENDAR_UNSET}


def test_the_calendar_is_in_every_answer_and_null_when_unset(api, company):
    customer = CustomerFactory(company=company)
    body = api.get(company_url(company, f"customers/{customer.id}")).json()
    assert {field: body[field] for field in CALENDAR_UNSET} == CALENDAR_UNSET
    listed = api.get(company_url(company, "customers")).json()["data"][0]
    assert {field: listed[field] for field in CALENDAR_UNSET} == CALENDAR_UNSET


@pytest.mark.parametrize(
    "calendar",
    [
        {"timezone": "Europe/London", "country": "GB", "subdivision": "ENG"},
        {"timezone": "Europe/Berlin", "country": "DE", "subdivision": "BY"},
        {"timezone": "America/Los_Angeles", "country": "US", "subdivision": "CA"},
        {"timezone": "Australia/Sydney", "country": "AU", "subdivision": "NSW"},
        {"timezone": "Asia/Tokyo", "country": "JP", "subdivision": None},
        {"country": "JP"},
        {"timezone": "UTC"},
        CALENDAR_UNSET,
    ],
)
def test_create_with_a_calendar(api, company, calendar):
    response = api.post(company_url(company, "customers"), {"name": "Acme", **calendar}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {field: body[field] for field in CALENDAR_UNSET} == {**CALENDAR_UNSET, **calendar}
    assert calendar_of(Customer.objects.get(pk=body["id"])) == {**CALENDAR_UNSET, **calendar}


@pytest.mark.parametrize(
    "calendar, field, message",
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
        (
            {"country": "GBR"},
            "country",
            "'GBR' is not a country code the holiday calendar knows; use ISO 3166-1 alpha-2 such as \"GB\".",
        ),
        ({"country": "XX"}, "country", "'XX' is not a country code the holiday calendar knows;"),
        ({"country": ""}, "country", 'Use null for no country; "" is not a country code.'),
        ({"country": ["GB"]}, "country", "Expected a string, got a list."),
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
            {"country": "US", "subdivision": "NSW"},
            "subdivision",
            "'NSW' is not a subdivision the holiday calendar knows for US; use a code such as AK, AL,",
        ),
        ({"country": "GB", "subdivision": "GB-ENG"}, "subdivision", "'GB-ENG' is not a subdivision"),
        ({"country": "GB", "subdivision": "x" * 11}, "subdivision", "Ensure this field has no more than 10"),
        (
            {"timezone": "Mars/Olympus"},
            "timezone",
            "'Mars/Olympus' is not a valid IANA timezone (e.g. America/New_York).",
        ),
        ({"timezone": "europe/london"}, "timezone", "'europe/london' is not a valid IANA timezone"),
        ({"timezone": " Europe/London"}, "timezone", "' Europe/London' is not a valid IANA timezone"),
        ({"timezone": ""}, "timezone", 'Use null for no timezone; "" is not a timezone.'),
        ({"timezone": 1}, "timezone", "Expected a string, got a number."),
    ],
)
def test_create_with_a_bad_calendar_is_a_400_naming_the_field(api, company, calendar, field, message):
    response = api.post(company_url(company, "customers"), {"name": "Acme", **calendar}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert errors[field][0].startswith(message), errors
    assert not Customer.objects.exists()


def test_patch_the_calendar(api, company):
    customer = CustomerFactory(company=company)
    url = company_url(company, f"customers/{customer.id}")
    response = api.patch(
        url, {"timezone": "Europe/Berlin", "country": "DE", "subdivision": "BY"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert calendar_of(customer) == {"timezone": "Europe/Berlin", "country": "DE", "subdivision": "BY"}

    assert api.patch(url, {"subdivision": "HH"}, format="json").status_code == 200
    assert api.patch(url, {"name": "Renamed"}, format="json").json()["subdivision"] == "HH"
    assert api.patch(url, {"timezone": None}, format="json").json()["timezone"] is None
    assert calendar_of(customer) == {"timezone": None, "country": "DE", "subdivision": "HH"}
    response = api.patch(url, {"country": None, "subdivision": None}, format="json")
    assert response.status_code == 200
    assert calendar_of(customer) == CALENDAR_UNSET


def test_a_patch_is_checked_with_the_stored_pair(api, company):
    customer = CustomerFactory(company=company, in_england=True)
    url = company_url(company, f"customers/{customer.id}")

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
    assert response.json() == {
        "subdivision": ["'ENG', the current subdivision, needs a country: send subdivision null too."]
    }
    response = api.patch(url, {"country": "JP"}, format="json")
    assert response.json()["subdivision"][0].endswith(
        "knows for JP, which has none; send subdivision null too."
    )
    response = api.patch(url, {"subdivision": "BY"}, format="json")
    assert response.json() == {
        "subdivision": [
            "'BY' is not a subdivision the holiday calendar knows for GB; use one of ENG, NIR, SCT, WLS."
        ]
    }
    assert calendar_of(customer) == {"timezone": "Europe/London", "country": "GB", "subdivision": "ENG"}

    response = api.patch(url, {"country": "DE", "subdivision": "BY"}, format="json")
    assert response.status_code == 200
    response = api.patch(url, {"country": "JP", "subdivision": None}, format="json")
    assert response.status_code == 200
    assert calendar_of(customer) == {"timezone": "Europe/London", "country": "JP", "subdivision": None}


def test_a_bad_calendar_in_a_patch_changes_nothing_else(api, company):
    customer = CustomerFactory(company=company, name="Acme")
    url = company_url(company, f"customers/{customer.id}")
    response = api.patch(url, {"name": "Renamed", "country": "UK", "timezone": "Nowhere"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"country", "timezone"}
    customer.refresh_from_db()
    assert customer.name == "Acme" and calendar_of(customer) == CALENDAR_UNSET

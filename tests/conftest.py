import pytest
from rest_framework.test import APIClient

from daylit.services import api_token_issue
from tests.factories.core import CompanyFactory, MemberFactory
from tests.fakes.openai_server import fake_ai  # noqa: F401  (a fixture for every test package)


@pytest.fixture
def company(db):
    return CompanyFactory()


@pytest.fixture
def member(company):
    return MemberFactory(company=company)


@pytest.fixture
def token(member):
    _, key = api_token_issue(user=member.user)
    return key


@pytest.fixture
def api(token):
    """A DRF client authenticated as `member` of `company`, the way an API user calls us."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Other Co")


@pytest.fixture
def outsider_api(other_company):
    """A member of another company: for them, `company` does not exist."""
    outsider = MemberFactory(company=other_company)
    _, key = api_token_issue(user=outsider.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def company_url(company, path: str = "") -> str:
    return f"/api/companies/{company.id}/{path}"

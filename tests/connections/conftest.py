import pytest
from rest_framework.test import APIClient

from daylit.celery import app as celery_app
from daylit.services import api_token_issue
from tests.factories.core import MemberFactory

NYLAS_URI = "https://nylas.test"


@pytest.fixture
def nylas_on(settings):
    """Nylas configured (a key, a client id, a fake API host that `responses` intercepts)."""
    settings.NYLAS_API_KEY = "test-api-key"
    settings.NYLAS_CLIENT_ID = "test-client-id"
    settings.NYLAS_API_URI = NYLAS_URI
    settings.NYLAS_CALLBACK_URL = "http://testserver/api/nylas/callback"
    return settings


@pytest.fixture
def plain_member(company):
    """A non-admin member of `company`."""
    return MemberFactory(company=company, role="member")


@pytest.fixture
def plain_api(plain_member):
    _, key = api_token_issue(user=plain_member.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def eager_celery():
    """Run .delay() inline, the way a worker would, for end-to-end webhook tests."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous

import kombu.pools
import pytest
from rest_framework.test import APIClient

from daylit.celery import app as celery_app
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


# --- Celery switches: the broker up/down, eager mode as settings.py sets it --------------------------

DEAD_BROKER = "redis://127.0.0.1:1/0"


def use_broker(url: str) -> None:
    """Point the Celery app at `url` and drop its pooled connections so the next publish uses it."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_write_url = None
    kombu.pools.reset()  # the global producer pools hold connections to the old URL
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(monkeypatch):
    """Call broker.down() / broker.up(); the original broker is restored after the test.

    Celery reads CELERY_BROKER_URL from the environment before `conf.broker_url` (settings_test sets
    it), so the variable moves with the setting or the "dead" broker is never used."""
    original = celery_app.conf.broker_url

    class Switch:
        def down(self):
            monkeypatch.setenv("CELERY_BROKER_URL", DEAD_BROKER)
            use_broker(DEAD_BROKER)

        def up(self):
            monkeypatch.setenv("CELERY_BROKER_URL", original)
            use_broker(original)

    yield Switch()
    use_broker(original)


@pytest.fixture
def eager_as_configured():
    """CELERY_TASK_ALWAYS_EAGER=true as settings.py sets it: eager, and exceptions propagate."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous

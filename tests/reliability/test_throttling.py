"""Per-token throttling: settings-driven rates, 429 in the API's error shape with Retry-After."""

import uuid

import pytest
from rest_framework.test import APIClient

from daylit.services import api_token_issue
from tests.conftest import company_url
from tests.factories.core import MemberFactory

pytestmark = pytest.mark.django_db


# No cache.clear(): counters are keyed by token, every test issues new tokens, and the cache may be a
# shared Redis (CACHE_URL) that a test must not wipe.


def test_a_token_over_its_rate_gets_429_with_retry_after(api, company, settings):
    settings.API_THROTTLE_RATE = "3/min"
    url = company_url(company, "customers")
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(url)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert "throttled" in body["detail"].lower()
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_rate_is_per_token(api, company, member, settings):
    settings.API_THROTTLE_RATE = "2/min"
    url = company_url(company, "customers")
    for _ in range(2):
        api.get(url)
    assert api.get(url).status_code == 429
    colleague = MemberFactory(company=company)
    _, key = api_token_issue(user=colleague.user)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert other.get(url).status_code == 200


def test_send_endpoints_have_their_own_tighter_budget(api, company, settings):
    settings.API_SEND_THROTTLE_RATE = "1/min"
    send = company_url(company, f"sequences/queue/{uuid.uuid4()}/send")
    assert api.post(send).status_code == 404
    response = api.post(send)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1
    # Other endpoints keep the general budget.
    assert api.get(company_url(company, "customers")).status_code == 200


def test_a_rate_of_off_disables_throttling(api, company, settings):
    settings.API_THROTTLE_RATE = "off"
    url = company_url(company, "customers")
    assert {api.get(url).status_code for _ in range(30)} == {200}


def test_unauthenticated_requests_get_401_not_429(anon, company, settings):
    settings.API_THROTTLE_RATE = "1/min"
    url = company_url(company, "customers")
    assert [anon.get(url).status_code for _ in range(3)] == [401, 401, 401]


def test_default_rate_is_generous_enough_for_the_test_suite(settings):
    rate = settings.API_THROTTLE_RATE
    count, _, period = rate.partition("/")
    assert period.startswith("m") and int(count) >= 600


def test_counters_can_live_in_redis_shared_by_every_worker(api, company, settings):
    """CACHE_URL=redis://... : the counter is in Redis, so all web processes share one budget."""
    import redis

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        }
    }
    settings.API_THROTTLE_RATE = "2/min"
    url = company_url(company, "customers")
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 429]
    keys = redis.Redis.from_url("redis://127.0.0.1:6379/15").keys("*throttle_token_*")
    assert keys, "the throttle counter was not written to Redis"

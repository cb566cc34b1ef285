"""Every answer under /api/ is JSON in the one error shape, DEBUG on or off; other paths keep Django's.

With DEBUG on Django answers unresolved URLs with its technical 404 page (handler404 is not used) and
errors raised in middleware or views with its technical 500 page, so each case runs in both modes.
This module is also the URLconf of the cases that need a view the project does not have (one that
crashes, one that is not CSRF-exempt): the project's routes and error handlers, plus those two.
"""

import re
import uuid

import pytest
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from rest_framework.test import APIClient
from rest_framework.views import APIView

import daylit.urls
from tests.conftest import company_url
from tests.routes import url_patterns

pytestmark = pytest.mark.django_db


def crash(request):
    raise RuntimeError("boom")


def plain_form(request):
    return HttpResponse("accepted")


class Contended(APIView):
    """PostgreSQL itself raises the error a deadlock or a serialization failure raises (its SQLSTATE)."""

    authentication_classes = permission_classes = ()

    def post(self, request, sqlstate: str):
        assert sqlstate in {"40P01", "40001", "55P03"}  # the test's own codes, never a client's text
        raise_it = f"RAISE EXCEPTION 'as if contended' USING ERRCODE = '{sqlstate}'"
        with connection.cursor() as cursor:
            cursor.execute(f"DO $$ BEGIN {raise_it}; END $$")


urlpatterns = [
    path("api/test-crash", crash),
    path("api/test-contended/<str:sqlstate>", Contended.as_view()),
    path("api/test-plain-form", plain_form),
    *daylit.urls.urlpatterns,
]
handler400 = daylit.urls.handler400
handler404 = daylit.urls.handler404
handler500 = daylit.urls.handler500

NOT_FOUND = {"detail": "Not found.", "code": "not_found"}
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


@pytest.fixture(params=[True, False], ids=["debug", "no-debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__


def assert_error(response, status: int, body: dict | None = None):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    data = response.json()
    assert set(data) == {"detail", "code"}, data
    if body is not None:
        assert data == body
    assert response["X-Request-ID"]  # still answered by the outermost middleware


def api_routes_with_ids() -> list[str]:
    """Every route under /api/ that takes a path parameter, from the URL resolver."""
    return [route for route, _ in url_patterns() if route.startswith("api/") and PARAM.search(route)]


@pytest.mark.parametrize(
    "path", ["/api/nope", "/api/", "/api/companies/{company}/nope", "/api/companies/{company}/customers/"]
)
def test_unknown_routes_are_json_404(api, company, debug, path):
    assert_error(api.get(path.format(company=company.id)), 404, NOT_FOUND)
    assert_error(api.post(path.format(company=company.id), {}, format="json"), 404, NOT_FOUND)


@pytest.mark.parametrize("malformed", ["abc", "xyz", "12345", "0" * 33])
def test_malformed_ids_in_the_path_are_json_404(api, company, debug, malformed):
    assert_error(api.get(f"/api/companies/{malformed}/customers"), 404, NOT_FOUND)
    assert_error(api.get(company_url(company, f"customers/{malformed}")), 404, NOT_FOUND)


def test_every_id_in_every_route_is_json_404_when_malformed(api, company, debug):
    routes = api_routes_with_ids()
    assert len(routes) >= 15
    for route in routes:
        params = PARAM.findall(route)
        for bad in params:
            ids = {name: str(company.id) if name == "company_id" else str(uuid.uuid4()) for name in params}
            ids[bad] = "not-a-uuid"
            url = "/" + PARAM.sub(lambda m, ids=ids: ids[m.group(1)], route)
            for method in ("get", "post", "patch", "delete"):
                response = getattr(api, method)(url, {}, format="json")
                assert response.status_code == 404, (method, url, response.status_code)
                assert_error(response, 404)


def test_method_not_allowed_is_json_405(api, company, debug):
    response = api.delete(company_url(company, "customers"))
    assert_error(response, 405)
    assert response.json()["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]


def test_disallowed_host_is_json_400(api, company, debug):
    # CommonMiddleware raises DisallowedHost before any view; with DEBUG on Django renders a debug page.
    response = api.get(company_url(company, "customers"), HTTP_HOST="evil.example")
    assert_error(response, 400, {"detail": "Bad request.", "code": "bad_request"})


def test_a_crash_is_json_500(debug, test_urls):
    response = APIClient(raise_request_exception=False).get("/api/test-crash")
    assert_error(response, 500, {"detail": "Internal server error.", "code": "server_error"})
    assert b"boom" not in response.content


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"], ids=["deadlock", "serialization"])
def test_a_transaction_the_database_undid_is_503_contention_to_retry(debug, test_urls, sqlstate):
    response = APIClient(raise_request_exception=False).post(f"/api/test-contended/{sqlstate}")
    assert response.status_code == 503, response.content[:300]
    assert response.json()["code"] == "contention" and "nothing was saved" in response.json()["detail"]
    assert response["Retry-After"] == "1" and response.json()["retry_after"] == 1


def test_another_database_error_is_still_a_500(debug, test_urls):
    response = APIClient(raise_request_exception=False).post("/api/test-contended/55P03")  # lock timeout
    assert_error(response, 500, {"detail": "Internal server error.", "code": "server_error"})


def test_a_csrf_failure_is_json_403(debug, test_urls):
    # Every project view under /api/ is CSRF-exempt (DRF); a plain Django view would not be.
    assert_error(APIClient(enforce_csrf_checks=True).post("/api/test-plain-form"), 403)
    # The view itself is untouched: a successful answer is not rewritten.
    assert APIClient().post("/api/test-plain-form").content == b"accepted"


def test_other_paths_keep_djangos_answers(anon, debug):
    assert anon.get("/healthz").status_code in (200, 503)
    assert anon.get("/admin/login/")["Content-Type"].startswith("text/html")
    csrf_failure = APIClient(enforce_csrf_checks=True).post("/admin/login/", {"username": "u"})
    assert csrf_failure.status_code == 403
    assert csrf_failure["Content-Type"].startswith("text/html")
    if debug:
        assert anon.get("/nope")["Content-Type"].startswith("text/html")  # Django's technical 404


@pytest.mark.parametrize(
    "rate_limited, status, code", [(True, 503, "rate_limited"), (False, 502, "upstream_error")]
)
def test_an_upstream_failure_that_may_pass_maps_to_http_in_one_place(rate_limited, status, code):
    from daylit.errors import UpstreamError

    error = UpstreamError.passing("Nylas is busy.", rate_limited=rate_limited, retry_after=7)
    assert (error.status_code, error.get_codes(), error.retry_after) == (status, code, 7)

import json
import subprocess
import sys

import pytest
from django.core.management import call_command

from daylit.models import ApiToken, Company, Customer, Invoice, Member

pytestmark = pytest.mark.django_db


def seed() -> dict:
    from io import StringIO

    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def counts():
    return [m.objects.count() for m in (Company, Member, Customer, Invoice)]


def test_seed_demo_is_idempotent_and_issues_working_tokens(anon):
    first = seed()
    before = counts()
    second = seed()
    assert counts() == before
    for key in ("company_id", "member_id", "customer_ids", "email_connection_id"):
        assert first[key] == second[key]
    assert first["token"] != second["token"]
    assert ApiToken.objects.count() == 2
    for token in (first["token"], second["token"]):
        anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = anon.get(f"/api/companies/{first['company_id']}/customers")
        assert response.status_code == 200
        assert response.json()["count"] == len(first["customer_ids"]) >= 3
    assert Invoice.objects.filter(status="open").count() >= 3


def test_create_token_prints_a_working_key(anon, member, company, capsys):
    call_command("create_token", "--member", str(member.id))
    key = capsys.readouterr().out.strip()
    anon.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon.get(f"/api/companies/{company.id}/customers").status_code == 200


def test_create_token_refuses_unknown_member():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_token", "--member", "nope")
    with pytest.raises(CommandError):
        call_command("create_token", "--member", "00000000-0000-0000-0000-000000000000")


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "ok"


@pytest.mark.parametrize(
    "url, healthy", [("redis://127.0.0.1:6379/0", True), ("redis://127.0.0.1:1/0", False)]
)
def test_healthz_checks_a_real_broker(client, settings, url, healthy):
    settings.CELERY_BROKER_URL = url
    response = client.get("/healthz")
    assert response.status_code == (200 if healthy else 503)
    assert (response.json()["broker"] == "ok") is healthy


def test_schema_is_openapi_3(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/companies/{company_id}/customers" in schema["paths"]


def test_docs_page_is_served_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"cdn.jsdelivr.net" not in response.content
    assert b"drf_spectacular_sidecar" in response.content


def test_the_web_process_freezes_its_start_up_objects_for_the_collector():
    probe = "import gc, daylit.wsgi; print(gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert int(result.stdout.strip()) > 10_000, result.stderr

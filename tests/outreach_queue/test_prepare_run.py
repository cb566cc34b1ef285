import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_prepare_run_writes_a_demo_whose_token_works(tmp_path, anon, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    demo_file = tmp_path / "demo.json"
    call_command("prepare_run", demo_file)
    demo = json.loads(demo_file.read_text())
    assert (tmp_path / "static" / "admin").is_dir()
    anon.credentials(HTTP_AUTHORIZATION=f"Token {demo['token']}")
    response = anon.get(f"/api/companies/{demo['company_id']}/customers")
    assert response.status_code == 200
    assert response.json()["count"] == len(demo["customer_ids"]) >= 3

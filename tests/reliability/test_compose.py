"""What `docker compose up --scale worker=3` needs of docker-compose.yml (no Docker engine runs here, so
the file itself is checked): a scaled service names no container and binds no host port, each replica's
Celery node name comes from its own hostname, and the schema is migrated once, before the app starts."""

from pathlib import Path

import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SCALABLE = ("worker", "webhooks")


def test_scalable_services_have_no_fixed_name_or_host_port():
    for name in SCALABLE:
        service = SERVICES[name]
        assert "container_name" not in service, name
        assert not service.get("ports"), name  # two replicas cannot bind one host port


def test_each_worker_replica_is_its_own_celery_node():
    for name in SCALABLE:
        command = SERVICES[name]["command"]
        assert "celery -A daylit worker" in command
        # The default node name is celery@<hostname>; an explicit -n must carry %h to stay unique.
        assert " -n " not in command or "%h" in command, command
        assert "--pool threads" in command, command  # a send waits on Nylas: threads, not processes


def test_the_schema_is_migrated_once_before_the_app_starts():
    assert "manage.py migrate" in SERVICES["migrate"]["command"]
    for name in ("web", *SCALABLE, "beat"):
        depends = SERVICES[name].get("depends_on", {})
        assert depends.get("migrate") == {"condition": "service_completed_successfully"}, name
        assert "migrate" not in SERVICES[name]["command"], name


def test_every_app_service_reaches_the_same_database_and_broker():
    environments = {name: SERVICES[name]["environment"] for name in ("web", *SCALABLE, "beat", "migrate")}
    assert len({env["DATABASE_URL"] for env in environments.values()}) == 1
    assert len({env["CELERY_BROKER_URL"] for env in environments.values()}) == 1

"""What `make run` does before it starts web, worker and beat, in one process (each `manage.py`
start costs seconds): create and migrate the database, collect static files, seed the demo data and
write it (with a fresh token) to the given file."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Prepare a local run: database, migrations, static files, demo data (written to DEMO_JSON)."

    def add_arguments(self, parser):
        parser.add_argument("demo_json", type=Path)

    def handle(self, *args, demo_json: Path, **options):
        call_command("ensure_database", stdout=self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        with demo_json.open("w") as out:
            call_command("seed_demo", json=True, stdout=out)

from django.core.management.base import BaseCommand
from django.db import connection
from psycopg import sql


class Command(BaseCommand):
    help = "Create the configured PostgreSQL database if the server does not have it yet."

    def handle(self, *args, **options):
        name = connection.settings_dict["NAME"]
        # The maintenance connection Django itself uses to create test databases.
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)).as_string())
                self.stdout.write(f"created database {name}")

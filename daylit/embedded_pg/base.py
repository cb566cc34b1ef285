"""Django's PostgreSQL engine, pointed at the embedded server's socket (started on first connection)."""

from django.conf import settings
from django.db.backends.postgresql import base

from daylit.embedded_pg.server import socket_dir


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        params["host"] = socket_dir(settings.EMBEDDED_POSTGRES_DIR)
        return params

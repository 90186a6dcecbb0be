"""A real kmslab server (`python -m kmslab.serve`, as `make run` starts it, on a free port, its own SQLite database) and boto3 clients."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """kmslab.serve, as `make run` starts it, on a free port. Servers on one var_dir share its database and master key.

    Starting returns at once; `wait_until_ready` waits for the port, so several
    servers and commands can start side by side."""

    def __init__(self, var_dir, **env):
        self.env = {
            **os.environ,
            "KMSLAB_VAR_DIR": str(var_dir),
            "KMSLAB_DATABASE_URL": f"sqlite:///{var_dir}/kmslab.sqlite3",
            "KMSLAB_ALLOW_ANY_CREDENTIALS": "0",
            **env,
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/aws/"
        self.log = open(var_dir / f"server-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kmslab.serve", "-b", "127.0.0.1", "-p", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_until_ready(self, seconds=120):
        deadline = time.monotonic() + seconds
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"kmslab.serve did not start: see {self.log.name}") from None
                time.sleep(0.1)

    def manage(self, *args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120, check=True)
        return done.stdout

    @staticmethod
    def migrate_database(var_dir):
        env = {**os.environ, "KMSLAB_VAR_DIR": str(var_dir),
               "KMSLAB_DATABASE_URL": f"sqlite:///{var_dir}/kmslab.sqlite3"}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True, timeout=120)

    def create_sandboxes(self, count):
        """`manage.py sandbox create --json`, `count` of them at once (each is a Django start-up)."""
        command = [sys.executable, "manage.py", "sandbox", "create", "--json"]
        running = [subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, text=True)
                   for _ in range(count)]
        return [json.loads(p.communicate(timeout=120)[0]) for p in running]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def client_factory(url, principal, region="us-east-1"):
    def client(service, validate=True, **credentials):
        credentials = credentials or {
            "aws_access_key_id": principal["access_key_id"],
            "aws_secret_access_key": principal["secret_access_key"],
        }
        return boto3.client(
            service, endpoint_url=url, region_name=region,
            config=Config(retries={"max_attempts": 0}, connect_timeout=5, read_timeout=30,
                          parameter_validation=validate),
            **credentials,
        )

    return client

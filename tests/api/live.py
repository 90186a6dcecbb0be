"""A real kmslab server (daphne on a free port, its own SQLite database) and boto3 clients pointed at it."""
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
        self.manage("migrate", "--noinput", "-v", "0")
        self.log = open(var_dir / "daphne.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(self.port), "kmslab.asgi:application"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not start: {(var_dir / 'daphne.log').read_text()}") from None
                time.sleep(0.1)

    def manage(self, *args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60, check=True)
        return done.stdout

    def create_sandbox(self):
        return json.loads(self.manage("sandbox", "create", "--json"))

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

"""`make run`'s server (python -m kmslab.serve): it says where it serves only once it listens."""
import os
import socket
import subprocess
import sys
import urllib.request

import pytest

from .api.live import ROOT, free_port

pytestmark = pytest.mark.live


def serve(tmp_path, port):
    env = {key: value for key, value in os.environ.items() if not key.startswith("KMSLAB_")}
    env.update(KMSLAB_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="kmslab.settings")
    return subprocess.Popen(
        [sys.executable, "-m", "kmslab.serve", "-b", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def test_the_serving_line_comes_once_the_port_answers(tmp_path):
    port = free_port()
    server = serve(tmp_path, port)
    try:
        line = server.stdout.readline()
        assert line == f"kmslab is serving at http://127.0.0.1:{port}/ (Ctrl-C stops it)\n"
        # Nothing is awaited between the line and the request: the port must already be open.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_port_already_taken_gets_no_serving_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = serve(tmp_path, taken.getsockname()[1])
        output, _ = server.communicate(timeout=60)

    assert server.returncode != 0
    assert "kmslab is serving" not in output
    assert "address already in use" in output

"""Probe the AWS endpoint with what an outside probe sent: deep dotted names and deep JSON, at growing sizes.

    .venv/bin/python scripts/probe_limits.py [--repeat 5]

Starts kmslab (kmslab.serve, a temporary SQLite database, a fresh sandbox) on a free
port on 127.0.0.1, as scripts/bench_api.py does, then sends each attack at
each size --repeat times over one connection, signed by botocore's SigV4
signer:

- a query-protocol parameter name of N dots (IAM CreateUser, `a.a.a...`),
  signed with the right secret and with a wrong one;
- JSON nested N deep (`[[[...]]]`) as a KMS key policy (CreateKey's Policy),
  as an IAM policy document (PutUserPolicy's PolicyDocument), and as the
  JSON 1.1 request body itself.

Prints, per attack and size, the answer (status and AWS error code), the
median time per request, and the server's resident memory afterwards and at
its peak (VmRSS and VmHWM from /proc/<pid>/status). Past the parsers' limits
both should stay flat however big the request grows.
"""
import argparse
import http.client
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local_server import Kmslab

REGION = "us-east-1"
DOTS = (1_000, 10_000, 40_000, 60_000)
DEPTHS = (100, 1_000, 10_000, 100_000)


def memory_mb(pid):
    """(VmRSS, VmHWM) of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return tuple(int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1)) / 1024
                 for field in ("VmRSS", "VmHWM"))


class Endpoint:
    def __init__(self, server, principal):
        self.server, self.principal = server, principal
        self.connection = http.client.HTTPConnection(server.host, timeout=120)

    def signed(self, service, body, headers, secret=None):
        request = AWSRequest(method="POST", url=f"{self.server.base}/aws/", data=body, headers=headers)
        credentials = Credentials(self.principal["access_key_id"], secret or self.principal["secret_access_key"])
        SigV4Auth(credentials, service, REGION).add_auth(request)
        return dict(request.headers.items())

    def kms(self, operation, body):
        return body, self.signed("kms", body, {"X-Amz-Target": f"TrentService.{operation}",
                                               "Content-Type": "application/x-amz-json-1.1"})

    def query(self, service, params, secret=None):
        body = urlencode(params).encode()
        return body, self.signed(service, body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                                 secret)

    def send(self, body, headers):
        """(status, AWS error code or '', seconds)."""
        started = time.perf_counter()
        self.connection.request("POST", "/aws/", body, headers)
        response = self.connection.getresponse()
        payload = response.read()
        seconds = time.perf_counter() - started
        if response.status == 200:
            return response.status, "", seconds
        found = re.search(rb"<Code>([^<]*)</Code>", payload)
        code = found.group(1).decode() if found else json.loads(payload).get("__type", "")
        return response.status, code, seconds


def nested(depth):
    return "[" * depth + "]" * depth


def attacks(endpoint):
    """(attack, size, one signed request) for every attack and size."""
    for dots in DOTS:
        params = {"Action": "CreateUser", "Version": "2010-05-08", "UserName": "mallory", ".".join("a" * (dots + 1)): "x"}
        yield "dotted name, right secret", f"{dots} dots", endpoint.query("iam", params)
        yield "dotted name, wrong secret", f"{dots} dots", endpoint.query("iam", params, secret="wrong")
    for depth in DEPTHS:
        yield "KMS CreateKey Policy", f"{depth} deep", endpoint.kms("CreateKey", json.dumps({"Policy": nested(depth)}).encode())
        params = {"Action": "PutUserPolicy", "Version": "2010-05-08", "UserName": "admin", "PolicyName": "p",
                  "PolicyDocument": nested(depth)}
        yield "IAM PutUserPolicy PolicyDocument", f"{depth} deep", endpoint.query("iam", params)
        body = ('{"KeyId": ' + nested(depth) + "}").encode()
        yield "KMS Encrypt request body", f"{depth} deep", endpoint.kms("Encrypt", body)


def probe(server, principal, repeat):
    endpoint = Endpoint(server, principal)
    rows = []
    for attack, size, (body, headers) in attacks(endpoint):
        answers = [endpoint.send(body, headers) for _ in range(repeat)]
        rss, peak = memory_mb(server.process.pid)
        status, code, _ = answers[-1]
        rows.append({"attack": attack, "size": size, "bytes": len(body), "status": status, "code": code,
                     "ms": 1000 * statistics.median(seconds for _, _, seconds in answers),
                     "rss_mb": rss, "peak_mb": peak})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="requests per attack and size (default 5)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kmslab-probe-") as var_dir:
        server = Kmslab(var_dir)
        try:
            principal = json.loads(server.manage("sandbox", "create", "--json"))["principals"][0]
            rss, peak = memory_mb(server.process.pid)
            rows = probe(server, principal, args.repeat)
        finally:
            server.stop()

    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"server at start: RSS {rss:.0f} MB, peak {peak:.0f} MB; {args.repeat} requests per row", file=sys.stderr)
    print(f"{'attack':34} {'size':>12} {'bytes':>8} {'answer':32} {'ms/request':>10} {'RSS MB':>7} {'peak MB':>7}")
    for r in rows:
        answer = f"{r['status']} {r['code']}"
        print(f"{r['attack']:34} {r['size']:>12} {r['bytes']:>8} {answer:32} {r['ms']:>10.1f}"
              f" {r['rss_mb']:>7.0f} {r['peak_mb']:>7.0f}")


if __name__ == "__main__":
    main()

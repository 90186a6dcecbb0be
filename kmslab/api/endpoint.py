"""The AWS endpoint, /aws/: what boto3, the AWS CLI and the Encryption SDK talk to.

A lean ASGI application (Django's request cycle would cost about 1 ms of CPU
a call, shared/research/perf-baseline.md §3). One request:

1. read the body (at most 1 MB);
2. tell the protocol and the service: an X-Amz-Target header means AWS JSON 1.1
   (KMS, CloudTrail), a form body means the query protocol (STS, IAM), and
   the SigV4 credential scope names the service it was signed for;
3. find the sandbox from the access key, then, inside the sandbox's
   transaction, check the signature with the key's secret and build the caller;
4. run the call through the sandboxes layer, which commits it and its
   CloudTrail record before we answer.

The database work is synchronous (Django's ORM), so steps 2–4 run in one hop
to a worker thread and the event loop only moves bytes. On SQLite one worker
takes every request that is waiting when it is free, and their calls commit
together (runner.run_all); no answer leaves before that commit.

Beside it, /kmslab-api/reset empties the open sandbox (open_sandbox.py).
"""
import asyncio
import hashlib
import hmac
import json
import logging
import queue
import threading
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

from kmslab.cloud import iam, principals, shapes, sts
from kmslab.cloud.errors import (
    AWSError,
    ExpiredTokenException,
    InvalidAction,
    InvalidSignatureException,
    UnknownOperationException,
    UnrecognizedClientException,
)
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import Sandbox

from . import json11, open_sandbox, query, sigv4

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
TARGET_PREFIXES = {
    "TrentService": "kms",
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101": "cloudtrail",
}
QUERY_VERSIONS = {"2011-06-15": "sts", "2010-05-08": "iam"}
OPERATIONS = {service: frozenset(shapes.service_model(service).operation_names)
              for service in ("kms", "cloudtrail", "sts", "iam")}
NAMESPACES = {"sts": "https://sts.amazonaws.com/doc/2011-06-15/", "iam": "https://iam.amazonaws.com/doc/2010-05-08/"}
INVALID_TOKEN = "The security token included in the request is invalid."
TOO_LARGE = f"The request body exceeds the limit of {MAX_BODY} bytes."

# Every call is a write transaction. SQLite runs one writer at a time, so one
# thread takes the requests, all those waiting at once (up to BATCH), and their
# calls share one transaction: its COMMIT is the dearest statement of a call.
# PostgreSQL locks per sandbox row: there, several threads take a request each,
# and calls on different sandboxes overlap their waits on the database.
if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    WORKERS, BATCH = 1, 16
else:
    WORKERS, BATCH = 4, 1
_waiting = queue.SimpleQueue()  # (request, its event loop, the future it is answered through)
_workers = []
_workers_lock = threading.Lock()


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: dict  # lower-case name -> value
    body: bytes
    source_ip: str
    secure: bool  # came over HTTPS (aws:SecureTransport, CloudTrail's tlsDetails)


async def aws_endpoint(scope, receive, send):
    headers = {}
    for name, value in scope["headers"]:
        name = name.decode("latin-1").lower()
        value = value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    try:
        body = await _read_body(receive, headers)
    except ClientDisconnected:
        return
    if body is None:
        call = protocol(headers)(None)
        status, response_headers, payload = call.error(RequestEntityTooLarge(TOO_LARGE), str(uuid.uuid4()))
    else:
        request = Request(
            method=scope["method"],
            path=scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?", 1)[0],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
            source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
            secure=scope.get("scheme") == "https",
        )
        status, response_headers, payload = await handled(request)
    response_headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": payload})


async def handled(request):
    """(status, headers, body) for a request, from the endpoint's worker threads (see BATCH)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    _waiting.put((request, loop, future))
    if len(_workers) < WORKERS:
        _start_workers()
    return await future


def _start_workers():
    with _workers_lock:
        while len(_workers) < WORKERS:
            # Daemon threads: a process that exits mid-call has not answered it, and SQLite
            # and PostgreSQL roll its transaction back.
            worker = threading.Thread(target=_serve, name=f"kmslab-aws-{len(_workers)}", daemon=True)
            worker.start()
            _workers.append(worker)


def _serve():
    while True:
        batch = [_waiting.get()]
        while len(batch) < BATCH:
            try:
                batch.append(_waiting.get_nowait())
            except queue.Empty:
                break
        try:
            answers = handle_all([request for request, _, _ in batch])
        except Exception as error:  # a bug; the worker must go on, and every waiting client hear of it
            answers = [protocol(request.headers)(request).failed(error) for request, _, _ in batch]
        for (_, loop, future), answer in zip(batch, answers):
            try:
                loop.call_soon_threadsafe(_settle, future, answer)
            except RuntimeError:  # its event loop has closed: there is nobody left to answer
                pass


def _settle(future, answer):
    if not future.cancelled():  # a client that went away
        future.set_result(answer)


async def reset_endpoint(scope, receive, send):
    """POST /kmslab-api/reset (or moto's /aws/moto-api/reset): empty the open sandbox (kmslab/api/open_sandbox.py).
    asgi.py routes here only while KMSLAB_ALLOW_ANY_CREDENTIALS is on; elsewhere the path is a 404."""
    headers = dict(scope["headers"])
    extra = []
    if scope["method"] != "POST":
        status, answer, extra = 405, {"message": "POST to reset the open sandbox."}, [(b"allow", b"POST")]
    elif b"origin" in headers:
        # Browsers send Origin on a cross-site POST: a web page the developer happens to visit
        # must not empty their sandbox. Test clients send none.
        status, answer = 403, {"message": "The reset API does not answer requests from web pages."}
    else:
        found = await asyncio.get_running_loop().run_in_executor(None, _reset_open_sandbox)
        status, answer = 200, {"status": "ok", "sandbox": str(found) if found else None}
    body = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


def _reset_open_sandbox():
    close_old_connections()
    return open_sandbox.reset()


async def _read_body(receive, headers):
    """The request body, or None when it is over the limit (read no further than that)."""
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


class ClientDisconnected(Exception):
    """The client went away before it finished sending; there is no one to answer."""


def _headers(content_type, request_id):
    return [(b"content-type", content_type.encode()), (b"x-amzn-requestid", request_id.encode())]


class RequestEntityTooLarge(AWSError):
    status = 413


class MissingAction(AWSError):
    pass


class RequestHeaderSectionTooLarge(AWSError):
    """S3's name (its error responses list) for the one failure every AWS front end shares."""


def header_section_too_large(headers, limit):
    """(status, headers, body): the answer to a request whose request line and headers run past
    `limit` bytes, which the HTTP server stops reading (kmslab/serve.py)."""
    call = protocol(headers)(None)
    error = RequestHeaderSectionTooLarge(
        "Your request header section exceeds the maximum allowed size. "
        f"kmslab note: kmslab reads at most {limit // 1024} KB of request line and headers."
    )
    return call.error(error, str(uuid.uuid4()))


class InternalFailure(AWSError):
    status = 500
    sender_fault = False


def protocol(headers):
    """AWS JSON 1.1 requests name their operation in X-Amz-Target; query requests in the body."""
    return JsonCall if "x-amz-target" in headers else QueryCall


def handle_all(requests):
    """Requests -> their (status, headers, body), in order. Runs in a worker thread;
    the calls of them all are committed before this returns (runner.run_all)."""
    close_old_connections()
    calls = [protocol(request.headers)(request) for request in requests]
    answers = [None] * len(calls)
    runs = []  # (the request's place, runner.run_all's arguments for its call)
    for i, call in enumerate(calls):
        try:
            runs.append((i, call.prepare()))
        except Exception as error:
            answers[i] = call.failed(error)
    for (i, _), (outcome, error) in zip(runs, runner.run_all([run for _, run in runs])):
        answers[i] = calls[i].failed(error) if error is not None else calls[i].answered(outcome)
    return answers


class Call:
    """One request in one protocol: find the operation, authenticate, run, answer."""

    service = None

    def __init__(self, request):
        self.request = request
        self.auth = self.operation = None

    def prepare(self):
        """The arguments of runner.run for this request's call, or the AWSError it is answered with."""
        request = self.request
        if request.method != "POST":
            raise UnknownOperationException(f"The AWS endpoint accepts POST requests, not {request.method}.")
        auth = self.auth = sigv4.parse_authorization(request.headers.get("authorization"))
        name = self.operation_name()
        if self.service is None:
            raise self.unknown_operation(name)
        if auth.service != self.service:
            raise InvalidSignatureException(f"Credential should be scoped to correct service: '{self.service}'.")
        # Checked against the model's names first: operation_model caches what it is asked.
        if name not in OPERATIONS[self.service]:
            raise self.unknown_operation(name)
        operation = self.operation = shapes.operation_model(self.service, name)
        stamp = sigv4.request_time(auth, request.headers)
        canonical = sigv4.canonical_request(
            request.method, request.path, request.query_string, request.headers, auth.signed_headers, request.body
        )
        sandbox_id = sandbox_for_access_key(auth.access_key_id)
        if sandbox_id is None:
            if not settings.KMSLAB_ALLOW_ANY_CREDENTIALS:
                raise UnrecognizedClientException(INVALID_TOKEN)
            sandbox_id, who = open_sandbox.sandbox_id(), self.open_caller(auth)
            call_input = self.parse(operation)
        else:
            who = self.signed_caller(auth, stamp, canonical)
            try:
                call_input = self.parse(operation)
            except AWSError:
                # AWS authenticates a request before it reads its input: a bad
                # signature is answered as such, whatever the body holds.
                if who(runner.load_world(sandbox_id)) is None:
                    raise UnrecognizedClientException(INVALID_TOKEN) from None
                raise
        return sandbox_id, who, self.service, operation.name, call_input, auth.region

    def answered(self, outcome):
        request_id = outcome.record["requestID"]
        if outcome.error is not None:
            return self.error(outcome.error, request_id)
        return self.success(self.operation, outcome.response, request_id)

    def failed(self, error):
        """The answer to a request whose call raised `error` and took no effect."""
        if isinstance(error, Sandbox.DoesNotExist):
            _sandboxes.pop(self.auth.access_key_id, None)
            error = UnrecognizedClientException(INVALID_TOKEN)
        if not isinstance(error, AWSError):
            log.error("the AWS endpoint failed on a request", exc_info=error)
            error = InternalFailure("We encountered an internal error. Please try again.")
        return self.error(error, str(uuid.uuid4()))

    def extras(self):
        return {
            "source_ip": self.request.source_ip,
            "user_agent": self.request.headers.get("user-agent", ""),
            "secure_transport": self.request.secure,
        }

    def signed_caller(self, auth, stamp, canonical):
        """who(world): the caller whose secret signed the request, or AWS's error."""
        token = self.request.headers.get("x-amz-security-token")

        def who(world):
            secret, token_hash = principals.secret_for_access_key(world, auth.access_key_id)
            if secret is None:
                return None
            sigv4.verify(auth, secret.decode(), stamp, canonical)
            # Temporary credentials need their session token; long-term keys must not carry one.
            if token_hash is None:
                if token is not None:
                    raise UnrecognizedClientException(INVALID_TOKEN)
            else:
                given = hashlib.sha256((token or "").encode()).hexdigest()
                if not hmac.compare_digest(given, token_hash):
                    raise UnrecognizedClientException(INVALID_TOKEN)
                if sts.session_expired(world, world.doc["sessions"][auth.access_key_id]):
                    raise ExpiredTokenException("The security token included in the request is expired")
            return principals.caller_for_access_key(world, auth.access_key_id, **self.extras())

        return who

    def open_caller(self, auth):
        """who(world) in the open sandbox: the admin of 123456789012, whatever key signed."""

        def who(world):
            account = world.account(open_sandbox.ACCOUNT)
            if account is None or "admin" not in account["users"]:
                # First use: the account and its admin are made in this call's transaction.
                world.add_account(open_sandbox.ACCOUNT)
                user = iam.add_user(world, open_sandbox.ACCOUNT, "admin")
                user["InlinePolicies"]["AdministratorAccess"] = iam.ALLOW_ALL
            user = world.account(open_sandbox.ACCOUNT)["users"]["admin"]
            return principals.user_caller(open_sandbox.ACCOUNT, user, auth.access_key_id, **self.extras())

        return who


class JsonCall(Call):
    content_type = json11.CONTENT_TYPE

    def operation_name(self):
        prefix, _, name = self.request.headers["x-amz-target"].rpartition(".")
        self.service = TARGET_PREFIXES.get(prefix)
        return name

    def unknown_operation(self, name):
        return UnknownOperationException(f"The operation {name!r} is not part of the {self.service} API.")

    def parse(self, operation):
        return json11.parse_request(operation, self.request.body)

    def success(self, operation, response, request_id):
        return 200, _headers(self.content_type, request_id), json11.serialize_response(response)

    def error(self, error, request_id):
        status, body = json11.serialize_error(error)
        return status, _headers(self.content_type, request_id), body


class QueryCall(Call):
    content_type = query.CONTENT_TYPE

    def operation_name(self):
        self.params = query.parse_form(self.request.body)
        self.service = QUERY_VERSIONS.get(self.params.get("Version"))
        return self.params.get("Action")

    def unknown_operation(self, name):
        if name is None:
            return MissingAction("The request must contain the parameter Action.")
        return InvalidAction(f"Could not find operation {name} for version {self.params.get('Version')}")

    def parse(self, operation):
        return query.parse_request(operation, self.params)

    def success(self, operation, response, request_id):
        return 200, _headers(self.content_type, request_id), query.serialize_response(operation, response, request_id)

    def error(self, error, request_id):
        namespace = NAMESPACES.get(self.service, NAMESPACES["sts"])
        status, body = query.serialize_error(namespace, error, request_id)
        return status, _headers(self.content_type, request_id), body


# Access key id -> sandbox id. Ids are random and never reused, so a key
# never moves to another sandbox: a found entry stays right until its sandbox
# is deleted (evicted above). A key that is deleted or deactivated is caught
# inside the call, where its world no longer knows it. Misses are not kept:
# a new session's key must be found at once.
_sandboxes = {}


def sandbox_for_access_key(access_key_id):
    found = _sandboxes.get(access_key_id)
    if found is None:
        found = runner.sandbox_for_access_key(access_key_id)
        if found is not None:
            if len(_sandboxes) > 100_000:
                _sandboxes.clear()
            _sandboxes[access_key_id] = found
    return found

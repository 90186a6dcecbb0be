"""Signature Version 4: checking that a request was signed with its access key's secret.

The steps are AWS's (IAM user guide, "Create a signed AWS API request"):
canonical request -> string to sign -> signing key derived from the secret,
the date, the region and the service -> HMAC-SHA256, compared in constant
time. The canonical request is built the way botocore builds it, since every
client we serve (boto3, the AWS CLI, the Encryption SDK) signs through it.

Errors use the JSON services' names (IncompleteSignatureException, ...); the
query protocol renames them to IAM's and STS's codes on the way out.
"""
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import quote

from kmslab.cloud.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
# AWS refuses a signature more than 15 minutes away from its own clock.
MAX_SKEW = 15 * 60
DATE_FORMAT = "%Y%m%dT%H%M%SZ"

INVALID_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    date: str  # YYYYMMDD from the credential scope
    region: str
    service: str
    signed_headers: tuple
    signature: str
    header: str  # the Authorization header as sent, quoted back in AWS's messages


def parse_authorization(header):
    """The Authorization header -> Authorization, or AWS's error for a malformed one."""
    if not header:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(f"Unsupported AWS 'algorithm': '{algorithm}'")
    parts = {}
    for item in rest.split(","):
        name, _, value = item.strip().partition("=")
        parts[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not parts.get(name)]
    if missing:
        raise IncompleteSignatureException(
            " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
            + f" Authorization={header}"
        )
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or not all(scope):
        raise IncompleteSignatureException(
            f"Credential should be scoped to a valid region, not '{parts['Credential']}'. Authorization={header}"
        )
    if scope[4] != "aws4_request":
        raise IncompleteSignatureException(
            f"Credential should be scoped with a valid terminator: 'aws4_request', not '{scope[4]}'."
        )
    signed = tuple(parts["SignedHeaders"].split(";"))
    if "host" not in signed:
        raise IncompleteSignatureException(
            f"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization. Authorization={header}"
        )
    return Authorization(scope[0], scope[1], scope[2], scope[3], signed, parts["Signature"], header)


def request_time(auth, headers, now=None):
    """The request's X-Amz-Date (or Date) as epoch seconds, checked against the clock and the scope."""
    stamp = headers.get("x-amz-date")
    if stamp is None:
        if "date" not in headers:
            raise IncompleteSignatureException(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                f"Authorization={auth.header}"
            )
        try:
            when = datetime.strptime(headers["date"], "%a, %d %b %Y %H:%M:%S GMT")
        except ValueError:
            raise IncompleteSignatureException(f"Date must be in RFC 1123 format. Got '{headers['date']}'.") from None
        stamp = when.strftime(DATE_FORMAT)
    try:
        # Sliced by hand: strptime costs more than the whole signature check.
        if len(stamp) != 16 or stamp[8] != "T" or stamp[15] != "Z":
            raise ValueError(stamp)
        when = datetime(
            int(stamp[0:4]), int(stamp[4:6]), int(stamp[6:8]),
            int(stamp[9:11]), int(stamp[11:13]), int(stamp[13:15]), tzinfo=timezone.utc,
        ).timestamp()
    except ValueError:
        raise IncompleteSignatureException(
            f"Date must be in ISO-8601 'basic format'. Got '{stamp}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None
    now = time.time() if now is None else now
    if when < now - MAX_SKEW:
        raise InvalidSignatureException(
            f"Signature expired: {stamp} is now earlier than {_stamp(now - MAX_SKEW)} ({_stamp(now)} - 15 min.)"
        )
    if when > now + MAX_SKEW:
        raise InvalidSignatureException(
            f"Signature not yet current: {stamp} is still later than {_stamp(now + MAX_SKEW)} ({_stamp(now)} + 15 min.)"
        )
    if stamp[:8] != auth.date:
        raise InvalidSignatureException(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{auth.date}' != '{stamp[:8]}', from '{stamp}'."
        )
    return stamp


def _stamp(epoch):
    return time.strftime(DATE_FORMAT, time.gmtime(epoch))


def canonical_request(method, raw_path, query_string, headers, signed_headers, body):
    """The canonical request, as botocore builds it for the services we serve.

    headers: lower-case name -> value (repeated headers already joined by ',').
    """
    path = quote(_remove_dot_segments(raw_path), safe="/~")
    pairs = sorted(pair.partition("=")[::2] for pair in query_string.split("&")) if query_string else []
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    lines = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed_headers)
    # Always the hash of the body received, never the X-Amz-Content-SHA256 a
    # client claims: only S3 accepts unsigned or pre-hashed payloads.
    payload = hashlib.sha256(body).hexdigest()
    return "\n".join((method, path, canonical_query, lines, ";".join(signed_headers), payload))


def _remove_dot_segments(path):
    # RFC 3986 5.2.4, and consecutive slashes collapse (what AWS and botocore do).
    if not path:
        return "/"
    out = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment and segment != ".":
            out.append(segment)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and out else ""
    return first + "/".join(out) + last


@lru_cache(maxsize=4096)
def signing_key(secret, date, region, service):
    # The same key signs every request of a day; deriving it is four HMACs.
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def verify(auth, secret, stamp, canonical):
    """Raise InvalidSignatureException unless the signature is the one the secret gives."""
    scope = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
    string_to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = signing_key(secret, auth.date, auth.region, auth.service)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), auth.signature.encode()):
        raise InvalidSignatureException(INVALID_SIGNATURE)

"""CloudTrail: LookupEvents over the records the sandbox layer stored.

CloudTrail's event history is per account and Region: a caller sees the
records whose recipientAccountId is its own account, made in the Region it
asks, newest first (API reference, LookupEvents).

The records come from `ctx.trail`, which the sandboxes layer supplies (its
TrailSource): `lookup(account, region, attribute, value, start_time, end_time,
before, limit)` returns up to `limit` rows `{"sequence", "record_json"}`,
newest first, each with sequence < `before` when that is given. `RecordList`
below is the same contract over a plain list of records; `matches` states
what each lookup attribute compares.
"""
import base64
import hashlib
import json
from datetime import datetime

from .errors import (
    InvalidLookupAttributesException,
    InvalidNextTokenException,
    InvalidTimeRangeException,
)
from .operations import operation
from .policy.authorize import authorize_account

DEFAULT_MAX_RESULTS = 50


def username(identity):
    """CloudTrail's "User name": the IAM user, a role session's name, or root."""
    kind = identity.get("type")
    if kind == "IAMUser":
        return identity.get("userName", "")
    if kind == "AssumedRole":
        return identity["arn"].rsplit("/", 1)[-1]
    if kind == "Root":
        return "root"
    return ""


def event_time(record):
    return datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")).timestamp()


def matches(record, attribute, value):
    """Does a record match one LookupAttribute? Values compare exactly, ReadOnly as "true"/"false"."""
    identity = record.get("userIdentity") or {}
    resources = record.get("resources") or []
    if attribute == "EventId":
        return record["eventID"] == value
    if attribute == "EventName":
        return record["eventName"] == value
    if attribute == "EventSource":
        return record["eventSource"] == value
    if attribute == "ReadOnly":
        return str(record["readOnly"]).lower() == value.lower()
    if attribute == "Username":
        return username(identity) == value
    if attribute == "AccessKeyId":
        return identity.get("accessKeyId") == value
    if attribute == "ResourceName":
        return any(r["ARN"] == value for r in resources)
    if attribute == "ResourceType":
        return any(r["type"] == value for r in resources)
    return False


class RecordList:
    """The trail-source contract over a list of records, oldest first (sequence = position + 1)."""

    def __init__(self, records):
        self.records = list(records)

    def lookup(self, account=None, region=None, attribute=None, value=None,
               start_time=None, end_time=None, before=None, limit=50):
        found = []
        newest = len(self.records) if before is None else min(before - 1, len(self.records))
        for sequence in range(newest, 0, -1):
            record = self.records[sequence - 1]
            if account is not None and record.get("recipientAccountId") != account:
                continue
            if region is not None and record.get("awsRegion") != region:
                continue
            if attribute is not None and not matches(record, attribute, value):
                continue
            if start_time is not None and event_time(record) < start_time:
                continue
            if end_time is not None and event_time(record) > end_time:
                continue
            found.append({"sequence": sequence, "record_json": json.dumps(record)})
            if len(found) == limit:
                break
        return found


def _event(row):
    """A row -> one Event of LookupEvents' answer, CloudTrailEvent being the record's JSON."""
    record = json.loads(row["record_json"])
    identity = record.get("userIdentity") or {}
    event = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": str(record["readOnly"]).lower(),
        "EventTime": event_time(record),
        "EventSource": record["eventSource"],
        "Resources": [{"ResourceType": r["type"], "ResourceName": r["ARN"]} for r in record.get("resources") or []],
        "CloudTrailEvent": row["record_json"],
    }
    if identity.get("accessKeyId"):
        event["AccessKeyId"] = identity["accessKeyId"]
    if username(identity):
        event["Username"] = username(identity)
    return event


def _epoch(value):
    return value.timestamp() if isinstance(value, datetime) else value


def _query_digest(ctx, request):
    """A NextToken is only good for the query that made it (InvalidNextTokenException)."""
    query = [ctx.caller.account, ctx.region, request.get("LookupAttributes"), _epoch(request.get("StartTime")),
             _epoch(request.get("EndTime")), request.get("EventCategory")]
    return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _next_token(digest, sequence):
    return base64.b64encode(json.dumps({"q": digest, "before": sequence}).encode()).decode()


def _before(token, digest):
    try:
        data = json.loads(base64.b64decode(token, validate=True))
        before = data["before"]
        valid = data["q"] == digest and isinstance(before, int)
    except (ValueError, TypeError, KeyError):
        valid = False
    if not valid:
        raise InvalidNextTokenException("Invalid NextToken: it was not issued for this query.")
    return before


@operation("cloudtrail", "LookupEvents", read_only=True)
def lookup_events(ctx, request):
    authorize_account(ctx, "cloudtrail:LookupEvents")
    attributes = request.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise InvalidLookupAttributesException("LookupAttributes can hold only one attribute.")
    start, end = _epoch(request.get("StartTime")), _epoch(request.get("EndTime"))
    if start is not None and end is not None and start > end:
        raise InvalidTimeRangeException("StartTime must not be later than EndTime.")
    digest = _query_digest(ctx, request)
    before = _before(request["NextToken"], digest) if request.get("NextToken") else None
    # kmslab records management events only: there are no Insights events to find.
    if ctx.trail is None or request.get("EventCategory") == "insight":
        return {"Events": []}
    limit = request.get("MaxResults", DEFAULT_MAX_RESULTS)
    attribute = attributes[0] if attributes else {}
    rows = ctx.trail.lookup(
        account=ctx.caller.account,
        region=ctx.region,
        attribute=attribute.get("AttributeKey"),
        value=attribute.get("AttributeValue"),
        start_time=start,
        end_time=end,
        before=before,
        limit=limit + 1,
    )
    response = {"Events": [_event(row) for row in rows[:limit]]}
    if len(rows) > limit:
        response["NextToken"] = _next_token(digest, rows[limit - 1]["sequence"])
    return response

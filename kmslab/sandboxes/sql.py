"""The runner's hot-path statements, written out in the driver's own placeholder style.

Building them with the ORM on every call cost about three times the rest of
the call (scripts/bench_core.py). They name the models' tables and columns by
hand, so tests/sandboxes/test_sql.py checks them against the models: a column
added to, renamed in or dropped from a model fails that test, not a call.
"""
import json
from datetime import datetime
from functools import lru_cache

from kmslab.cloud import cloudtrail

from .models import AccessKeyIndex, Sandbox, TrailRecord, WorldEntity

# The columns each statement reads or writes, by table.
SANDBOX_COLUMNS = ("id", "version", "last_sequence", "read_only_from")
TRAIL_COLUMNS = (
    "sandbox_id", "sequence", "event_id", "event_time", "event_name", "event_source", "event_type",
    "account", "region", "username", "access_key_id", "resource_names", "resource_types",
    "error_code", "read_only", "record_json", "explanations_json",
)
ENTITY_COLUMNS = ("sandbox_id", "section", "name", "body")
ACCESS_KEY_COLUMNS = ("access_key_id", "sandbox_id")


@lru_cache(maxsize=None)
def statements(vendor):
    sandbox, trail = Sandbox._meta.db_table, TrailRecord._meta.db_table
    entity, keys = WorldEntity._meta.db_table, AccessKeyIndex._meta.db_table
    p = "?" if vendor == "sqlite" else "%s"
    writable = f" AND (read_only_from IS NULL OR read_only_from > {p})"
    # One statement reads the sandbox's row and its world's rows, so on
    # PostgreSQL both come from one snapshot even without a lock.
    load = (
        f"SELECT s.version, s.last_sequence, (s.read_only_from IS NOT NULL AND s.read_only_from <= {p}), "
        f"e.section, e.name, e.body FROM {sandbox} s LEFT JOIN {entity} e ON e.sandbox_id = s.id "
        f"WHERE s.id = {p} ORDER BY e.id"
    )
    return {
        # IMMEDIATE: an SQLite writer takes the write lock at once, so two queue instead of one failing.
        "begin": "BEGIN IMMEDIATE" if vendor == "sqlite" else "BEGIN",
        "load": load,
        # Taken before a retry's load, in a statement of its own: a locking read
        # of a join returns the locked row as it is now but the joined rows as they
        # were when it began, on PostgreSQL; the load after it sees them as they are.
        # SQLite has no row locks; its BEGIN IMMEDIATE has already serialised writers.
        "lock": f"SELECT id FROM {sandbox} WHERE id = {p} FOR UPDATE" if vendor != "sqlite" else None,
        "save_version": f"UPDATE {sandbox} SET version = {p}, last_sequence = {p} WHERE id = {p} AND version = {p}"
        f"{writable}",
        "append": f"INSERT INTO {trail} ({', '.join(TRAIL_COLUMNS)}) "
        f"VALUES ({', '.join([p] * len(TRAIL_COLUMNS))}) RETURNING id",
        # An entity keeps its row (and so its place in the order rows are loaded in) when it changes.
        "put_entity": f"INSERT INTO {entity} ({', '.join(ENTITY_COLUMNS)}) VALUES ({p}, {p}, {p}, {p}) "
        "ON CONFLICT (sandbox_id, section, name) DO UPDATE SET body = excluded.body",
        "delete_entity": f"DELETE FROM {entity} WHERE sandbox_id = {p} AND section = {p} AND name = {p}",
        # Also for an access key that only changed (its status): it is indexed already.
        "add_key": f"INSERT INTO {keys} ({', '.join(ACCESS_KEY_COLUMNS)}) VALUES ({p}, {p}) "
        "ON CONFLICT (access_key_id) DO NOTHING",
        "remove_key": f"DELETE FROM {keys} WHERE access_key_id = {p}",
    }


def trail_row(db, db_id, sequence, record, explanations):
    """The TRAIL_COLUMNS values of one record, as the database takes them."""
    identity = record.get("userIdentity") or {}
    resources = record.get("resources") or []
    return [
        db_id,
        sequence,
        record["eventID"],
        db.ops.adapt_datetimefield_value(datetime.fromisoformat(record["eventTime"])),
        record["eventName"],
        record["eventSource"],
        record["eventType"],
        record.get("recipientAccountId", ""),
        record.get("awsRegion", ""),
        cloudtrail.username(identity),
        identity.get("accessKeyId", ""),
        _framed(r["ARN"] for r in resources),
        _framed(r["type"] for r in resources),
        record.get("errorCode", ""),
        record["readOnly"],
        json.dumps(record),
        json.dumps(explanations),
    ]


def _framed(names):
    unique = list(dict.fromkeys(names))
    return "\n" + "\n".join(unique) + "\n" if unique else ""

"""One call in one transaction: load the world, call, save what changed, append the trail, broadcast.

Every call bumps the sandbox's version with `UPDATE ... WHERE version = <the
version it ran on>`. If another call committed first, nothing of this attempt
is kept and the whole call runs again on the newer world, read afresh; retries
lock the row first (SELECT ... FOR UPDATE on PostgreSQL), so a busy sandbox
cannot starve a call. Only after COMMIT does the caller get its answer and the
console its broadcast.

A world is stored one row per entity (WorldEntity, see kmslab.cloud.world),
and a call writes only the rows it changed. Reading, parsing and unsealing a
whole world costs what the world holds, so each process keeps the last World
it committed per sandbox, with its version, and runs the next call on it without asking the database: the
UPDATE's version check tells if another process committed in between. A call
that fails before its UPDATE (credentials the cached world does not know, as
a new access key made on another worker or by a reset) runs again on the
world read afresh, so only a current world refuses a caller. An
entry is taken out of the cache for the length of a call and put back only
after its commit, so a call that fails or loses a conflict can never leave a
half-changed world behind for the next one. On SQLite, where BEGIN IMMEDIATE
serialises writers, a conflict means just that: another process wrote.

run_all() commits several calls at once: on SQLite in one transaction, a
savepoint each (the AWS endpoint's batches, see docs/architecture.md).
"""
import asyncio
import logging
import threading
import uuid
from contextlib import nullcontext
from datetime import datetime, timezone

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from kmslab.cloud import calls, seed
from kmslab.cloud.errors import AccessDenied, AccessDeniedException, InvalidClientTokenId, UnrecognizedClientException
from kmslab.cloud.kms.schedule import run_due
from kmslab.cloud.world import World

from .master_key import master_key
from .models import AccessKeyIndex, Sandbox, TrailRecord, WorldEntity
from .sql import statements, trail_row

logger = logging.getLogger(__name__)

ATTEMPTS = 5
CACHE_SIZE = 256
# The query-protocol services answer unknown credentials with another error code.
QUERY_SERVICES = ("iam", "sts")


class Conflict(Exception):
    """Another call committed on the version this one read."""


class ReadOnly(Exception):
    """The sandbox takes no more calls (Sandbox.read_only_from has passed): a closed workshop's run."""


READ_ONLY_MESSAGE = "This sandbox is read-only: the workshop it belongs to has closed. You can still look at it in the console."


def group_name(sandbox_id):
    return f"trail.{_uuid(sandbox_id).hex}"


# Called after every commit, in the committing thread, as
# hook(sandbox id, whether the world changed, the new CloudTrail records).
# The labs app evaluates a lab run's objectives from here; a hook must be quick.
committed_hooks = []


def create_sandbox(owner, name="", seeded=None, history=(), read_only_from=None):
    """A sandbox with the default world, or `seeded` = (world, principals) such as a lab's.
    `history`: [(CloudTrail record, explanations)] its trail starts with (a lab's seeded records).
    Returns (sandbox, principals with their secrets)."""
    world, principals = seeded or seed.default_world(master_key())
    with transaction.atomic():
        sandbox = Sandbox.objects.create(owner=owner, name=name, read_only_from=read_only_from)
        _write_world(sandbox, world)
        _write_history(sandbox, history)
    return sandbox, principals


def _write_world(sandbox, world):
    WorldEntity.objects.bulk_create(
        (WorldEntity(sandbox=sandbox, section=section, name=name, body=body) for section, name, body in world.rows()),
        batch_size=500,
    )
    AccessKeyIndex.objects.bulk_create(
        AccessKeyIndex(access_key_id=key, sandbox=sandbox) for key in _access_key_ids(world)
    )


def _write_history(sandbox, history):
    if not history:
        return
    db = connections[DEFAULT_DB_ALIAS]
    db_id = Sandbox._meta.pk.get_db_prep_value(sandbox.id, db)
    # The driver's own cursor and placeholders, as _commit appends records; inside the caller's transaction.
    db.ensure_connection()
    cursor = db.connection.cursor()
    try:
        for n, (record, explanations) in enumerate(history, 1):
            cursor.execute(statements(db.vendor)["append"], trail_row(db, db_id, n, record, explanations))
    finally:
        cursor.close()
    sandbox.last_sequence = len(history)
    sandbox.save(update_fields=["last_sequence"])


def run(sandbox_id, who, service, operation, request, region=None):
    """Run one call and commit it; returns the cloud's Outcome.

    `who(world)` returns the Caller, None for credentials the world does not
    know, or raises an AWSError (a bad signature, say); in the last two cases
    nothing is recorded, as CloudTrail records no call it cannot authenticate.
    """
    outcome, error = run_all([(sandbox_id, who, service, operation, request, region)])[0]
    if error is not None:
        raise error
    return outcome


def run_all(calls):
    """Run calls one after another and commit them, each a tuple of run()'s arguments
    (sandbox id, who, service, operation, request, region).

    Returns, for each call in order, (Outcome, None), or (None, the exception it
    raised) when it took no effect. On SQLite, whose writers take turns anyway,
    the calls share one transaction and its one COMMIT, the dearest statement of
    a call (docs/architecture.md); a failed call is rolled back alone, to its
    savepoint, and a failed COMMIT fails them all. On PostgreSQL each call commits
    on its own: a transaction that held several sandboxes' row locks could deadlock
    with another worker's.
    """
    items = []
    for sandbox_id, who, service, operation, request, region in calls:
        sandbox_id = _uuid(sandbox_id)
        items.append((sandbox_id, _call_work(sandbox_id, who, service, operation, request, region)))
    results = []
    for (_, _, service, *_), (outcome, error) in zip(calls, _commit_all(items)):
        if isinstance(error, ReadOnly):
            error = (AccessDenied if service in QUERY_SERVICES else AccessDeniedException)(READ_ONLY_MESSAGE)
        results.append((outcome, error))
    return results


def _call_work(sandbox_id, who, service, operation, request, region):
    trail_source = TrailSource(sandbox_id)

    def work(world):
        caller = who(world)
        if caller is None:
            error = InvalidClientTokenId if service in QUERY_SERVICES else UnrecognizedClientException
            raise error("The security token included in the request is invalid.")
        outcome = calls.call(world, caller, service, operation, request, region, trail_source=trail_source)
        records = [(r, []) for r in outcome.service_records] + [(outcome.record, outcome.explanations)]
        records += [(r, []) for r in outcome.later_records]
        return outcome, records

    return work


def advance_clock(sandbox_id, seconds):
    """Move a sandbox's clock forward, run what falls due, and return the records that wrote.
    Raises ReadOnly when the sandbox takes no more calls."""
    if seconds < 0:
        raise ValueError("the sandbox clock only moves forward")

    def work(world):
        world.clock.advance(seconds)
        records = run_due(world)
        return records, [(r, []) for r in records]

    return _commit(_uuid(sandbox_id), work)


def load_world(sandbox_id):
    """A snapshot of the current world, for reads that are not calls. Changes to it are not saved."""
    rows = list(WorldEntity.objects.filter(sandbox_id=_uuid(sandbox_id)).order_by("id")
                .values_list("section", "name", "body"))
    if not rows:
        raise Sandbox.DoesNotExist(f"no sandbox {sandbox_id}")
    return World.from_rows(rows, master_key())


def reset(sandbox_id, seeded=None, history=()):
    """Start a sandbox over: a fresh default world (or `seeded` = (world, principals)),
    new credentials, an empty trail (or one holding only `history`, as create_sandbox's).

    Returns the new principals with their secrets."""
    sandbox_id = _uuid(sandbox_id)
    world, principals = seeded or seed.default_world(master_key())
    with transaction.atomic(durable=True):
        sandbox = Sandbox.objects.select_for_update().get(pk=sandbox_id)
        sandbox.version += 1  # a call in flight on the old world now conflicts and reruns on this one
        sandbox.last_sequence = 0
        sandbox.resets += 1  # the console links made before stop working
        sandbox.save(update_fields=["version", "last_sequence", "resets"])
        TrailRecord.objects.filter(sandbox=sandbox).delete()
        WorldEntity.objects.filter(sandbox=sandbox).delete()
        AccessKeyIndex.objects.filter(sandbox=sandbox).delete()
        _write_world(sandbox, world)
        _write_history(sandbox, history)
    _forget(sandbox_id)
    return principals


def delete(sandbox_id):
    """Delete a sandbox with its trail; False if there was none."""
    sandbox_id = _uuid(sandbox_id)
    deleted, _ = Sandbox.objects.filter(pk=sandbox_id).delete()
    _forget(sandbox_id)
    return deleted > 0


def sandbox_for_access_key(access_key_id):
    """The id of the sandbox an access key (long-term or a session's) belongs to, or None."""
    return AccessKeyIndex.objects.filter(pk=access_key_id).values_list("sandbox_id", flat=True).first()


class TrailSource:
    """The stored trail of one sandbox, as CloudTrail LookupEvents reads it (see docs/architecture.md)."""

    COLUMNS = {
        "EventId": "event_id",
        "EventName": "event_name",
        "Username": "username",
        "AccessKeyId": "access_key_id",
        "EventSource": "event_source",
        "ReadOnly": "read_only",
        "ResourceType": "resource_types",
        "ResourceName": "resource_names",
    }

    def __init__(self, sandbox_id):
        self.sandbox_id = sandbox_id

    def lookup(self, account=None, region=None, attribute=None, value=None,
               start_time=None, end_time=None, before=None, limit=50):
        rows = TrailRecord.objects.filter(sandbox_id=self.sandbox_id)
        if account is not None:
            rows = rows.filter(account=account)
        if region is not None:
            rows = rows.filter(region=region)
        if attribute is not None:
            column = self.COLUMNS[attribute]
            if column == "read_only":
                rows = rows.filter(read_only=value.lower() == "true")
            elif column in ("resource_types", "resource_names"):
                rows = rows.filter(**{f"{column}__contains": f"\n{value}\n"})
            else:
                rows = rows.filter(**{column: value})
        if start_time is not None:
            rows = rows.filter(event_time__gte=datetime.fromtimestamp(start_time, timezone.utc))
        if end_time is not None:
            rows = rows.filter(event_time__lte=datetime.fromtimestamp(end_time, timezone.utc))
        if before is not None:
            rows = rows.filter(sequence__lt=before)
        found = rows.order_by("-sequence").values_list("sequence", "record_json")[:limit]
        return [{"sequence": sequence, "record_json": text} for sequence, text in found]


# The transaction.


def _commit(sandbox_id, work):
    result, error = _commit_all([(sandbox_id, work)])[0]
    if error is not None:
        raise error
    return result


def _commit_all(items):
    """Run each (sandbox id, work) and commit: [(result, None) or (None, exception)] in order."""
    # The connection itself, not django.db.connection: its proxy costs a
    # context-local lookup on every use, and the hot path uses it often.
    db = connections[DEFAULT_DB_ALIAS]
    if db.in_atomic_block:
        raise RuntimeError("a call commits its own transaction: run it outside transaction.atomic()")
    batches = [items] if db.vendor == "sqlite" else [[item] for item in items]
    results = []
    for batch in batches:
        try:
            done, worlds = _commit_batch(db, batch)
        except Exception as error:  # nothing of the batch took effect
            results += [(None, error)] * len(batch)
            continue
        results += [(result, error) for result, error, *_ in done]
        # Only now, after COMMIT: the cache, the console's broadcast, the hooks.
        for sandbox_id, committed in worlds.items():
            _keep(sandbox_id, committed)
        for (sandbox_id, _), (result, error, ids, changed, records) in zip(batch, done):
            if error is not None:
                continue
            if ids:
                send_to_group(group_name(sandbox_id), {"type": "trail.record", "sandbox": sandbox_id.hex, "ids": ids})
            for hook in committed_hooks:
                try:
                    hook(sandbox_id, changed, records)
                except Exception:
                    # The call has committed: what follows it is never the caller's error.
                    logger.exception("a hook after the commit of a call failed")
    return results


def _commit_batch(db, batch):
    """One transaction for the batch's calls, retried whole on a conflict when it holds one call:
    ([(result, error, the new records' ids, whether the world changed, the new records)],
    {sandbox id: (version, last sequence, World) as the transaction left it}).

    A call of a batch of several runs inside a savepoint: its failure rolls back
    only its own work, and a conflict (a cached world another process had moved
    past) reruns it there on the world read afresh, which on SQLite nobody else can
    change while the transaction holds the write lock."""
    sql = statements(db.vendor)
    together = len(batch) > 1
    for attempt in range(ATTEMPTS):
        # The transaction is the driver's own, begun and ended here: Django's
        # atomic() costs a tenth of a call's throughput over HTTP (scripts/bench_api.py).
        # Driver errors become Django's, so a broken connection is dropped.
        with _writer_turn(db), db.wrap_database_errors:
            db.ensure_connection()
            cursor = db.connection.cursor()
            try:
                cursor.execute(sql["begin"])
                try:
                    worlds = {}  # sandbox id -> the world as this transaction left it, for its next call
                    if together:
                        done = [_in_savepoint(db, cursor, sandbox_id, work, worlds) for sandbox_id, work in batch]
                    else:
                        [(sandbox_id, work)] = batch
                        result, *rest = _attempt(db, cursor, sandbox_id, work, attempt > 0, worlds)
                        done = [(result, None, *rest)]
                    db.connection.commit()
                except BaseException:
                    db.connection.rollback()
                    raise
            except Conflict:
                continue
            finally:
                cursor.close()
        return done, worlds
    raise _lost_races(batch[0][0])


# SQLite lets one writer in at a time and makes the others poll, sleeping up
# to 100 ms between tries; threads of one process queue here instead and each
# starts the moment the previous one commits.
_sqlite_writer = threading.Lock()


def _writer_turn(db):
    return _sqlite_writer if db.vendor == "sqlite" else nullcontext()


def _in_savepoint(db, cursor, sandbox_id, work, worlds):
    """One call of a batch, in a savepoint of the batch's transaction: the same tuple as
    _commit_batch's, with the exception that rolled it back instead of its result."""
    for attempt in range(ATTEMPTS):
        cursor.execute("SAVEPOINT call")
        try:
            result, *rest = _attempt(db, cursor, sandbox_id, work, attempt > 0, worlds)
        except Exception as error:
            if isinstance(error, db.Database.Error):
                raise  # the database failed, not the call: the whole batch is rolled back
            cursor.execute("ROLLBACK TO call")
            cursor.execute("RELEASE call")
            if isinstance(error, Conflict):
                continue
            return None, error, [], False, []
        cursor.execute("RELEASE call")
        return (result, None, *rest)
    return None, _lost_races(sandbox_id), [], False, []


def _lost_races(sandbox_id):
    return Conflict(f"sandbox {sandbox_id}: {ATTEMPTS} attempts in a row lost to concurrent calls")


def _attempt(db, cursor, sandbox_id, work, retry, worlds):
    """One try at a call inside the open transaction:
    (result, the new records' ids, whether the world changed, the new records).
    `worlds` holds the worlds earlier calls of this transaction left; this call's takes its place there."""
    sql = statements(db.vendor)
    db_id = Sandbox._meta.pk.get_db_prep_value(sandbox_id, db)
    # A world this process committed is taken as current without asking: if
    # another call committed since, the UPDATE below finds a newer version,
    # and the retry reads the world afresh. That saves a query per call.
    # A read-only sandbox is found by the UPDATE (its condition fails) or here.
    now = db.ops.adapt_datetimefield_value(datetime.now(timezone.utc))
    cached = None if retry else worlds.pop(sandbox_id, None) or _take(sandbox_id)
    if cached is not None:
        version, last_sequence, world = cached
    else:
        if retry and sql["lock"]:
            cursor.execute(sql["lock"], [db_id])
        cursor.execute(sql["load"], [now, db_id])
        rows = cursor.fetchall()
        if not rows:
            raise Sandbox.DoesNotExist(f"no sandbox {sandbox_id}")
        if rows[0][2]:
            raise ReadOnly
        version, last_sequence = rows[0][0], rows[0][1]
        world = World.from_rows((row[3:] for row in rows), master_key())

    try:
        result, records = work(world)
    except Exception:
        # The UPDATE's version check below vouches for a cached world, but a
        # call that fails never reaches it: credentials another process made
        # since (a reset, an access key or a session made on another worker)
        # would be refused on an older world. A failure is answered only on
        # the world read afresh.
        if cached is not None:
            raise Conflict from None
        raise
    # The world notes what a call reached, so finding what changed costs what
    # the call touched, not what the world holds.
    changes = world.take_changes()
    # The sandbox's row first: its version check (and on PostgreSQL its row
    # lock) decides who writes, before any entity is written.
    cursor.execute(sql["save_version"], [version + 1, last_sequence + len(records), db_id, version, now])
    if cursor.rowcount != 1:
        raise Conflict

    ids = []
    for n, (record, explanations) in enumerate(records, 1):
        cursor.execute(sql["append"], trail_row(db, db_id, last_sequence + n, record, explanations))
        ids.append(cursor.fetchone()[0])
    puts = [[db_id, section, name, text] for section, name, text in changes if text is not None]
    deletes = [[db_id, section, name] for section, name, text in changes if text is None]
    if puts:
        cursor.executemany(sql["put_entity"], puts)
    if deletes:
        cursor.executemany(sql["delete_entity"], deletes)
    # AccessKeyIndex follows the world's access keys and sessions.
    keys = [(name, text) for section, name, text in changes if section in ("access_keys", "sessions")]
    if keys:
        cursor.executemany(sql["add_key"], [[name, db_id] for name, text in keys if text is not None])
        cursor.executemany(sql["remove_key"], [[name] for name, text in keys if text is None])
    worlds[sandbox_id] = (version + 1, last_sequence + len(records), world)
    return result, ids, bool(changes), [r for r, _ in records]


def _access_key_ids(world):
    return set(world.doc["access_keys"]) | set(world.doc["sessions"])


# Broadcasting. A call runs in some worker thread, but a channel layer belongs
# to the event loop that serves the websockets: in-memory groups are asyncio
# queues of that loop (putting into one from another loop does not wake it),
# and channels-redis keeps its connections per loop. So a call hands its
# message to that loop and goes on. Without a serving loop (a management
# command, a script) the message goes from a loop of its own.
_serving_loop = None


def serve_broadcasts_from_this_loop():
    """Called by the ASGI application from its event loop, once it runs."""
    global _serving_loop
    _serving_loop = asyncio.get_running_loop()


def serving():
    """Whether this process serves websockets (the ASGI server), rather than being a command or a test."""
    return _serving_loop is not None and _serving_loop.is_running()


def send_to_group(group, message):
    """Send a channel-layer message from any thread; a failure is logged, never raised."""
    layer = get_channel_layer()
    # An in-memory layer reaches only this process: with nobody here in the
    # group there is nobody to tell, and skipping saves a hop to the loop per call.
    if isinstance(layer, InMemoryChannelLayer) and not layer.groups.get(group):
        return
    loop = _serving_loop
    if loop is not None and loop.is_running():
        sent = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        sent.add_done_callback(_report_failure)
        return
    # The call has committed: a layer that fails (Redis down) is logged, never the caller's error.
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("broadcast to %s failed", group)


def _report_failure(sent):
    if not sent.cancelled() and sent.exception() is not None:
        logger.error("a broadcast failed", exc_info=sent.exception())


# The per-process world cache: sandbox id -> (version, last sequence, World).

_cache = {}
_cache_lock = threading.Lock()


def _take(sandbox_id):
    with _cache_lock:
        return _cache.pop(sandbox_id, None)


def _keep(sandbox_id, committed):
    with _cache_lock:
        kept = _cache.get(sandbox_id)
        # Threads of one process may commit and come back here out of order.
        if kept is None or kept[0] < committed[0]:
            _cache[sandbox_id] = committed
        if len(_cache) > CACHE_SIZE:
            del _cache[next(iter(_cache))]


def _forget(sandbox_id):
    with _cache_lock:
        _cache.pop(sandbox_id, None)


def _uuid(sandbox_id):
    return sandbox_id if isinstance(sandbox_id, uuid.UUID) else uuid.UUID(str(sandbox_id))

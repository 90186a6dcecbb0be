import json
import uuid

from django.db import models
from django.utils import timezone


class Sandbox(models.Model):
    """One learner's simulated cloud: a version for optimistic locking; its world is in WorldEntity rows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The learner's opaque token (kept in their Django session); console views check it.
    owner = models.CharField(max_length=64, blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)  # a lab run's is its lab's title
    created = models.DateTimeField(default=timezone.now)
    # Bumped by every committed call (and reset), so a cached world is current
    # exactly when its version matches, and two calls never both commit on one version.
    version = models.PositiveBigIntegerField(default=0)
    # The sequence number of the newest trail record.
    last_sequence = models.PositiveBigIntegerField(default=0)
    # How many times it was started over: a console link names the count it was made at, so a reset ends it.
    resets = models.PositiveIntegerField(default=0)
    # From this time on every call is refused (a closed workshop's runs); the console still shows it.
    read_only_from = models.DateTimeField(null=True, blank=True)
    # The console offers no clock control (a workshop's instructor keeps the clock); manage.py still moves it.
    clock_locked = models.BooleanField(default=False)

    class Meta:
        ordering = ["created"]

    def __str__(self):
        return self.name or str(self.id)

    @property
    def read_only(self):
        return self.read_only_from is not None and self.read_only_from <= timezone.now()


class TrailRecord(models.Model):
    """One CloudTrail record, append-only: rows are inserted and never updated.

    `record_json` is the record as CloudTrail delivers it (key order kept, which
    PostgreSQL's jsonb would not do); the columns beside it are what
    LookupEvents filters on.
    """

    # No index of its own: the (sandbox, sequence) constraint's index serves it.
    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="trail", db_index=False)
    sequence = models.PositiveBigIntegerField()
    event_id = models.CharField(max_length=36)
    event_time = models.DateTimeField()
    event_name = models.CharField(max_length=128)
    event_source = models.CharField(max_length=64)
    event_type = models.CharField(max_length=32)
    # CloudTrail event history is per account and Region: recipientAccountId and awsRegion.
    account = models.CharField(max_length=12)
    region = models.CharField(max_length=32)
    username = models.CharField(max_length=128, blank=True)
    access_key_id = models.CharField(max_length=128, blank=True)
    # "\n"-separated and "\n"-framed, so `contains="\n<arn>\n"` matches one whole name.
    resource_names = models.TextField(blank=True)
    resource_types = models.TextField(blank=True)
    error_code = models.CharField(max_length=128, blank=True)
    read_only = models.BooleanField()
    record_json = models.TextField()
    explanations_json = models.TextField(default="[]")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "sequence"], name="trail_sequence_unique"),
        ]
        # Newest first is the (sandbox, sequence) constraint's index read backwards.
        # The selective LookupEvents attributes get an index each; the others
        # (account, Username, EventSource, ReadOnly) take a few values per
        # sandbox, so reading backwards finds a page of matches at once, and
        # every index costs each call's INSERT (scripts/bench_core.py).
        indexes = [
            models.Index(fields=["sandbox", "event_name", "sequence"], name="trail_event_name"),
            models.Index(fields=["sandbox", "access_key_id", "sequence"], name="trail_access_key"),
            models.Index(fields=["sandbox", "event_id"], name="trail_event_id"),
        ]

    def __str__(self):
        return f"{self.sequence} {self.event_name}"

    @property
    def record(self):
        return json.loads(self.record_json)

    @property
    def explanations(self):
        return json.loads(self.explanations_json)


class WorldEntity(models.Model):
    """One entity of a sandbox's world, as kmslab.cloud.world stores it: a key record,
    an alias, a grant, an IAM user, an access key, a session… (`section` says which
    part of the world, `name` which member), or, in section "", everything else.

    Written only when a call changed it; `id` keeps the order entities were first
    stored in, which is the order a world lists them in (ListKeys)."""

    # No index of its own: the (sandbox, section, name) constraint's index serves it.
    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="entities", db_index=False)
    section = models.CharField(max_length=64, blank=True)
    name = models.TextField(blank=True)
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "section", "name"], name="world_entity_unique"),
        ]

    def __str__(self):
        return f"{self.section} {self.name}"


class AccessKeyIndex(models.Model):
    """Access key id -> sandbox, so the AWS endpoint finds a world from a signed request.

    Kept in step with the world's `access_keys` and `sessions` by the runner.
    """

    access_key_id = models.CharField(max_length=128, primary_key=True)
    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="access_keys")

    def __str__(self):
        return self.access_key_id

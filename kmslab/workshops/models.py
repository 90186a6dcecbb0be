from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Workshop(models.Model):
    """An instructor's session: labs in order, a join code, and the learners who joined with it."""

    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workshops")
    title = models.CharField(max_length=100)
    labs = models.JSONField(default=list)  # lab slugs, in the order learners take them
    join_code = models.CharField(max_length=16, unique=True)
    opens = models.DateTimeField(default=timezone.now)
    closes = models.DateTimeField(null=True, blank=True)
    max_learners = models.PositiveIntegerField(null=True, blank=True)
    # Set when the instructor closes it (or when `closes` passes): joining stops, runs become read-only.
    closed = models.DateTimeField(null=True, blank=True)
    # Days after closing that the workshop and its runs are deleted (`manage.py workshop purge`).
    retention_days = models.PositiveIntegerField(default=30)
    hints_locked = models.BooleanField(default=False)
    learner_clock = models.BooleanField(default=True)  # learners may advance their own runs' clocks
    stuck_minutes = models.PositiveIntegerField(default=10)
    announcement = models.TextField(blank=True)
    announced = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.title

    @property
    def is_closed(self):
        now = timezone.now()
        return (self.closed is not None and self.closed <= now) or (self.closes is not None and self.closes <= now)

    @property
    def is_open(self):
        return not self.is_closed and self.opens <= timezone.now()

    @property
    def closed_at(self):
        """When it closed (or will, by its schedule)."""
        return min(t for t in (self.closed, self.closes) if t is not None) if (self.closed or self.closes) else None

    @property
    def deletes_at(self):
        closed = self.closed_at
        return closed + timezone.timedelta(days=self.retention_days) if closed else None


class Learner(models.Model):
    """Someone who joined a workshop under a display name. No account: a browser session's token."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="learners")
    display_name = models.CharField(max_length=40)
    # The browser session's learner token (console.learner.token): the owner of this learner's sandboxes.
    token = models.CharField(max_length=64, db_index=True)
    # SHA-256 of the personal resume link's secret, which is shown once and never stored.
    resume_digest = models.CharField(max_length=64, blank=True, db_index=True)
    joined = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["joined", "id"]
        constraints = [
            models.UniqueConstraint(Lower("display_name"), "workshop", name="learner_name_unique"),
            models.UniqueConstraint(fields=["workshop", "token"], name="learner_token_unique"),
        ]

    def __str__(self):
        return self.display_name


class Action(models.Model):
    """What an instructor did to a workshop, when: shown on the workshop's page."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="actions")
    # The name is kept beside the link: the record outlives a deleted instructor account.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)
    time = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=40)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-time", "-id"]

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M} {self.username} {self.action}"

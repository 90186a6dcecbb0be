from django.db import models
from django.utils import timezone

from kmslab.sandboxes.models import Sandbox


class LabRun(models.Model):
    """One learner's attempt at a lab: a sandbox seeded from the lab's setup, and its progress."""

    sandbox = models.OneToOneField(Sandbox, primary_key=True, on_delete=models.CASCADE, related_name="lab_run")
    lab = models.SlugField(max_length=64)
    started = models.DateTimeField(default=timezone.now)
    completed = models.DateTimeField(null=True, blank=True)
    # {objective id: ISO time it was first met}; an objective once met stays met.
    progress = models.JSONField(default=dict)
    # The access matrices of the fresh world, for "nobody else's access changed" checks.
    baseline = models.JSONField(default=dict)
    # {objective id: hint tiers revealed (1-3)}; kept across a reset, as hints once read were used.
    hints = models.JSONField(default=dict)
    # The workshop learner whose run this is (None for a learner practising alone).
    learner = models.ForeignKey("workshops.Learner", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="runs")
    # How many trail records the lab's setup wrote before the learner's first call (its probes).
    seeded = models.PositiveIntegerField(default=0)

    @property
    def hints_used(self):
        return sum(self.hints.values())

    @property
    def duration(self):
        """Seconds from start to completion (or to now)."""
        return ((self.completed or timezone.now()) - self.started).total_seconds()

    class Meta:
        ordering = ["-started"]

    def __str__(self):
        return f"{self.lab} {self.sandbox_id}"

"""Template filters for the simulated cloud's values: epoch times on the sandbox clock, JSON."""
import json
from datetime import datetime, timezone

from django import template

from kmslab.cloud import learner_json
from kmslab.cloud.policy.explain import GATE_WORDS

from .. import pages

register = template.Library()


@register.filter
def epoch(value):
    """An epoch float (how the world stores times) -> 2026-11-28 10:15:00 UTC."""
    if value in (None, ""):
        return ""
    return datetime.fromtimestamp(float(value), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.filter
def pretty_json(value):
    """A dict, or JSON text such as a policy document, indented for reading. Autoescaped by the template."""
    if isinstance(value, str):
        try:
            value = learner_json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, sort_keys=False, default=str)


@register.filter
def state_badge(state):
    """The badge class for a key state: the word is always shown too."""
    return {"Enabled": "ok", "Disabled": "off", "PendingDeletion": "bad", "PendingImport": "warn"}.get(state, "warn")


@register.filter
def gate_words(explanation):
    """The sentence for the gate that decided (explain.GATE_WORDS), e.g. "an explicit Deny ... always wins"."""
    words = GATE_WORDS.get(explanation.get("gate"), explanation.get("gate", ""))
    return words.format(action=explanation.get("action", ""), source=(explanation.get("deciding") or {}).get("source", ""))


@register.filter
def get_version(versions, version_id):
    """A managed policy's document at one version."""
    return (versions.get(version_id) or {}).get("Document", "")


@register.filter
def listed(value):
    """A list field of DescribeKey (EncryptionAlgorithms, ...) as AWS's console lists it: comma-separated."""
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else value


@register.filter
def duration(seconds):
    """Seconds as the console writes a span of time: 3 d 4 h, 12 min, 40 s."""
    return pages.duration(seconds)

"""The trail feed's filters and rows, shared by the trail page, the downloads and the websocket.

One definition of a filter, so the live stream shows exactly what a reload would.
"""
import json

from django import forms
from django.db.models import Q

from kmslab.sandboxes.models import TrailRecord

FEED_LENGTH = 100


class TrailFilterForm(forms.Form):
    event_name = forms.CharField(required=False, max_length=128, label="Event name",
                                 widget=forms.TextInput(attrs={"placeholder": "e.g. Decrypt", "list": "event-names"}))
    principal = forms.CharField(required=False, max_length=256, label="Principal",
                                widget=forms.TextInput(attrs={"placeholder": "user name, session name, root or ARN"}))
    key = forms.CharField(required=False, max_length=256, label="Key",
                          widget=forms.TextInput(attrs={"placeholder": "key id or key ARN"}))
    errors = forms.BooleanField(required=False, label="Errors only")
    read_only = forms.ChoiceField(required=False, label="Read-only",
                                  choices=[("", "Any"), ("true", "Read-only"), ("false", "Not read-only")])

    def filters(self):
        """The valid filters as a sorted tuple of pairs: hashable, and the same for equal filters."""
        if not self.is_valid():
            return ()
        return tuple(sorted((k, v) for k, v in self.cleaned_data.items() if v))


def apply(rows, filters):
    f = dict(filters)
    if f.get("event_name"):
        rows = rows.filter(event_name=f["event_name"])
    if f.get("principal"):
        # userIdentity.arn (or a role session's issuer ARN) as json.dumps wrote it, or CloudTrail's user name.
        needle = '"arn": ' + json.dumps(f["principal"])
        rows = rows.filter(Q(username=f["principal"]) | Q(record_json__contains=needle))
    if f.get("key"):
        rows = rows.filter(resource_names__contains=f["key"])
    if f.get("errors"):
        rows = rows.exclude(error_code="")
    if f.get("read_only"):
        rows = rows.filter(read_only=f["read_only"] == "true")
    return rows


def records(sandbox_id, filters=(), limit=FEED_LENGTH):
    """The newest records first."""
    rows = apply(TrailRecord.objects.filter(sandbox_id=sandbox_id), filters).order_by("-sequence")
    return rows[:limit] if limit else rows


def row(record):
    """What a feed row shows, taken from the CloudTrail record itself."""
    data = record.record
    identity = data.get("userIdentity") or {}
    resources = data.get("resources") or []
    return {
        "sequence": record.sequence,
        "event_id": record.event_id,
        "event_name": record.event_name,
        "event_source": record.event_source.split(".")[0],
        "event_type": record.event_type,
        "time": data["eventTime"],
        "principal": identity.get("arn") or identity.get("invokedBy") or "",
        # arn:aws:iam::111122223333:user/bob -> user/bob, as the feed has little room.
        "principal_short": identity["arn"].split(":", 5)[5] if identity.get("arn") else identity.get("invokedBy", ""),
        "account": identity.get("accountId", ""),
        "principal_type": identity.get("type", "AWS service"),
        "mfa": ((identity.get("sessionContext") or {}).get("attributes") or {}).get("mfaAuthenticated"),
        "keys": [r["ARN"].rsplit("/", 1)[-1] for r in resources],
        "error_code": record.error_code,
        "read_only": record.read_only,
    }


# The calls that hand back a ciphertext under the key they name (ReEncrypt names two keys, so it is left out).
CIPHERTEXT_CALLS = ["Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
                    "GenerateDataKeyPairWithoutPlaintext"]


def ciphertexts_made(sandbox_id, key_arn):
    """How many successful calls in the trail made a ciphertext under this key: what deleting it strands."""
    return TrailRecord.objects.filter(sandbox_id=sandbox_id, event_name__in=CIPHERTEXT_CALLS, error_code="",
                                      resource_names__contains=f"\n{key_arn}\n").count()

"""A world stored as one row per entity (WorldEntity) instead of one document (Sandbox.world).

The split is written out here for the format-1 document as it was when this
migration was made, so that later changes to kmslab.cloud.world cannot change
what it does.
"""
import json

from django.db import migrations, models
import django.db.models.deletion

TOP_SECTIONS = ("access_keys", "sessions")
KMS_SECTIONS = ("keys", "aliases", "grants", "import_tokens")
ACCOUNT_SECTIONS = ("users", "groups", "roles", "policies", "mfa_devices")


def _dumps(value):
    return json.dumps(value, separators=(",", ":"))


def split(doc):
    """[(section, name, JSON text)] of a format-1 world document, the rest first."""
    rest = {k: v for k, v in doc.items() if k not in TOP_SECTIONS}
    rest["kms"] = {k: v for k, v in doc["kms"].items() if k not in KMS_SECTIONS}
    rest["accounts"] = {a: {k: v for k, v in account.items() if k not in ACCOUNT_SECTIONS}
                        for a, account in doc["accounts"].items()}
    rows = [("", "", _dumps(rest))]
    sections = [(name, doc.get(name) or {}) for name in TOP_SECTIONS]
    sections += [(f"kms.{name}", doc["kms"].get(name) or {}) for name in KMS_SECTIONS]
    for account_id, account in doc["accounts"].items():
        sections += [(f"accounts.{account_id}.{name}", account.get(name) or {}) for name in ACCOUNT_SECTIONS]
    for section, members in sections:
        rows += [(section, name, _dumps(value)) for name, value in members.items()]
    return rows


def join(rows):
    rest = next(text for section, name, text in rows if section == "")
    doc = json.loads(rest)
    for name in TOP_SECTIONS:
        doc[name] = {}
    for name in KMS_SECTIONS:
        doc["kms"][name] = {}
    for account in doc["accounts"].values():
        for name in ACCOUNT_SECTIONS:
            account[name] = {}
    for section, name, text in rows:
        if section in TOP_SECTIONS:
            doc[section][name] = json.loads(text)
        elif section.startswith("kms."):
            doc["kms"][section[4:]][name] = json.loads(text)
        elif section:
            _, account_id, part = section.split(".")
            doc["accounts"][account_id][part][name] = json.loads(text)
    return doc


def forwards(apps, schema_editor):
    Sandbox = apps.get_model("sandboxes", "Sandbox")
    WorldEntity = apps.get_model("sandboxes", "WorldEntity")
    for sandbox in Sandbox.objects.only("id", "world").iterator():
        WorldEntity.objects.bulk_create(
            WorldEntity(sandbox_id=sandbox.id, section=section, name=name, body=body)
            for section, name, body in split(json.loads(sandbox.world))
        )


def backwards(apps, schema_editor):
    Sandbox = apps.get_model("sandboxes", "Sandbox")
    WorldEntity = apps.get_model("sandboxes", "WorldEntity")
    for sandbox in Sandbox.objects.only("id").iterator():
        rows = WorldEntity.objects.filter(sandbox_id=sandbox.id).order_by("id").values_list("section", "name", "body")
        sandbox.world = _dumps(join(list(rows)))
        sandbox.save(update_fields=["world"])


class Migration(migrations.Migration):

    dependencies = [
        ('sandboxes', '0004_workshop_controls'),
    ]

    operations = [
        migrations.CreateModel(
            name='WorldEntity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('section', models.CharField(blank=True, max_length=64)),
                ('name', models.TextField(blank=True)),
                ('body', models.TextField()),
                ('sandbox', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='entities', to='sandboxes.sandbox')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('sandbox', 'section', 'name'), name='world_entity_unique')],
            },
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AlterField(
            model_name='sandbox',
            name='world',
            field=models.TextField(default=''),
        ),
        migrations.RemoveField(
            model_name='sandbox',
            name='world',
        ),
    ]

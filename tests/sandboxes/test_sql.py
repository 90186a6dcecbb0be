"""The runner's hand-written SQL agrees with the models it writes."""
import pytest

from kmslab.sandboxes import sql
from kmslab.sandboxes.models import AccessKeyIndex, Sandbox, TrailRecord, WorldEntity


def columns(model):
    """The columns a row of `model` is inserted with: all but a database-made id."""
    return {f.column for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)}


@pytest.mark.parametrize("model, written", [
    (TrailRecord, sql.TRAIL_COLUMNS),
    (WorldEntity, sql.ENTITY_COLUMNS),
    (AccessKeyIndex, sql.ACCESS_KEY_COLUMNS),
])
def test_an_insert_names_every_column_of_its_model(model, written):
    assert set(written) == columns(model)


def test_the_sandbox_columns_the_statements_use_exist():
    assert set(sql.SANDBOX_COLUMNS) <= {f.column for f in Sandbox._meta.concrete_fields}


def test_the_upserts_conflict_targets_are_the_models_unique_keys():
    unique = [c.fields for c in WorldEntity._meta.constraints]
    assert ("sandbox", "section", "name") in unique
    assert "ON CONFLICT (sandbox_id, section, name)" in sql.statements("sqlite")["put_entity"]
    assert AccessKeyIndex._meta.pk.column == "access_key_id"
    assert "ON CONFLICT (access_key_id)" in sql.statements("postgresql")["add_key"]


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_the_statements_name_the_models_tables(vendor):
    text = " ".join(s for s in sql.statements(vendor).values() if s)
    for model in (Sandbox, TrailRecord, WorldEntity, AccessKeyIndex):
        assert model._meta.db_table in text


def test_a_trail_row_has_a_value_for_each_column():
    from django.db import connection

    from kmslab.cloud import calls, principals, seed

    world, creds = seed.default_world(bytes(32))
    outcome = calls.call(world, principals.caller_for_access_key(world, creds[0]["access_key_id"]), "kms", "ListKeys", {})

    assert len(sql.trail_row(connection, "id", 1, outcome.record, [])) == len(sql.TRAIL_COLUMNS)

"""Multi-Region keys: CreateKey MultiRegion, ReplicateKey, UpdatePrimaryRegion, the replica
states, shared material across Regions, deletion windows, and the records AWS writes."""
import json
import re

import pytest

from kmslab.cloud.kms import ciphertext
from kmslab.cloud.kms.cryptography import KEY_GONE
from kmslab.cloud.kms.multi_region import SETTLE_SECONDS
from kmslab.cloud.world import World
from ..factories import DAY, allow, call, fails, import_material, import_request, make_key, make_user, ok, policy

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"


def arn(region, key_id, account="111122223333"):
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def mrk(world, admin, **request):
    return make_key(world, admin, MultiRegion=True, **request)["KeyId"]


def replicate(world, caller, key_id, region=WEST, clock=None, **request):
    response = ok(world, caller, "ReplicateKey", KeyId=key_id, ReplicaRegion=region, **request)
    if clock is not None:
        clock.t += SETTLE_SECONDS
    return response


def describe(world, caller, key_id, region=EAST):
    return ok(world, caller, "DescribeKey", region=region, KeyId=key_id)["KeyMetadata"]


def test_a_multi_region_key_has_an_mrk_id_and_is_its_own_primary(world, admin):
    meta = make_key(world, admin, MultiRegion=True)

    assert re.fullmatch(r"mrk-[0-9a-f]{32}", meta["KeyId"])
    assert meta["MultiRegion"] is True
    assert meta["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "PRIMARY",
        "PrimaryKey": {"Arn": arn(EAST, meta["KeyId"]), "Region": EAST},
        "ReplicaKeys": [],
    }
    assert make_key(world, admin)["MultiRegion"] is False
    assert "MultiRegionConfiguration" not in make_key(world, admin)


@pytest.mark.parametrize(
    "request_",
    [{}, {"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}, {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
     {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}, {"Origin": "EXTERNAL"}],
)
def test_every_key_type_can_be_multi_region_and_be_replicated(world, admin, clock, request_):
    key_id = mrk(world, admin, **request_)
    replica = replicate(world, admin, key_id, clock=clock)["ReplicaKeyMetadata"]

    assert replica["KeySpec"] == describe(world, admin, key_id)["KeySpec"]
    expected = "PendingImport" if request_.get("Origin") == "EXTERNAL" else "Enabled"
    assert describe(world, admin, key_id, WEST)["KeyState"] == expected


def test_a_replica_is_creating_for_a_few_seconds_then_enabled(world, admin, clock):
    key_id = mrk(world, admin)
    response = replicate(world, admin, key_id, Description="west copy")
    meta = response["ReplicaKeyMetadata"]

    assert (meta["KeyState"], meta["Enabled"], meta["Arn"]) == ("Creating", False, arn(WEST, key_id))
    assert meta["Description"] == "west copy"
    assert meta["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "REPLICA",
        "PrimaryKey": {"Arn": arn(EAST, key_id), "Region": EAST},
        "ReplicaKeys": [{"Arn": arn(WEST, key_id), "Region": WEST}],
    }
    assert json.loads(response["ReplicaPolicy"])["Id"] == "key-default-1"
    # While Creating it can be described but not used.
    error = fails(world, admin, "Encrypt", "KMSInvalidStateException", region=WEST, KeyId=key_id, Plaintext=b"x")
    assert error.message == f"{arn(WEST, key_id)} is creating."

    clock.t += SETTLE_SECONDS
    outcome = call(world, admin, "DescribeKey", region=WEST, KeyId=key_id)
    assert (outcome.response["KeyMetadata"]["KeyState"], outcome.response["KeyMetadata"]["Enabled"]) == ("Enabled", True)
    # The primary lists its replica too.
    assert describe(world, admin, key_id)["MultiRegionConfiguration"]["ReplicaKeys"] == [{"Arn": arn(WEST, key_id), "Region": WEST}]
    sync = outcome.service_records[0]
    assert (sync["eventName"], sync["awsRegion"], sync["resources"][0]["ARN"]) == ("SynchronizeMultiRegionKey", EAST, arn(EAST, key_id))
    assert sync["responseElements"] is None and sync["requestID"]  # as ct-synchronize-multi-region-key shows
    assert sync["eventType"] == "AwsApiCall" and sync["userIdentity"]["invokedBy"] == "AWS Internal"


def test_a_ciphertext_from_one_region_decrypts_in_the_other(world, admin, clock):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)
    east_blob = ok(world, admin, "Encrypt", KeyId=key_id, Plaintext=b"east", EncryptionContext={"a": "b"})["CiphertextBlob"]
    west_blob = ok(world, admin, "Encrypt", region=WEST, KeyId=key_id, Plaintext=b"west")["CiphertextBlob"]

    west = ok(world, admin, "Decrypt", region=WEST, CiphertextBlob=east_blob, EncryptionContext={"a": "b"})
    assert (west["Plaintext"], west["KeyId"]) == (b"east", arn(WEST, key_id))
    assert ok(world, admin, "Decrypt", CiphertextBlob=west_blob)["Plaintext"] == b"west"
    # The key is named by its id and the Region's own ARN alike.
    assert ok(world, admin, "Decrypt", region=WEST, CiphertextBlob=east_blob, KeyId=arn(WEST, key_id),
              EncryptionContext={"a": "b"})["Plaintext"] == b"east"
    # The context still binds.
    fails(world, admin, "Decrypt", "InvalidCiphertextException", region=WEST, CiphertextBlob=east_blob)


def test_multi_region_blobs_have_format_2_and_old_blobs_still_decrypt(world, admin):
    key_id = mrk(world, admin)
    single = make_key(world, admin)["KeyId"]
    blob = ok(world, admin, "Encrypt", KeyId=key_id, Plaintext=b"m")["CiphertextBlob"]
    old = ok(world, admin, "Encrypt", KeyId=single, Plaintext=b"s")["CiphertextBlob"]

    assert (blob[0], old[0]) == (2, 1)
    assert ciphertext.parse(blob) == (key_id, 0)
    assert ciphertext.parse(old) == (single, 0)
    assert ok(world, admin, "Decrypt", CiphertextBlob=old)["Plaintext"] == b"s"
    # The format byte is authenticated: a v2 blob relabelled v1 names another key and fails.
    fails(world, admin, "Decrypt", "InvalidCiphertextException", CiphertextBlob=b"\x01" + blob[1:])


def test_decrypt_in_a_region_without_the_key_says_what_aws_says(world, admin):
    key_id = mrk(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key_id, Plaintext=b"m")["CiphertextBlob"]

    assert fails(world, admin, "Decrypt", "AccessDeniedException", region=EU, CiphertextBlob=blob).message == KEY_GONE
    forged = blob[:1] + bytes(16) + blob[17:]
    fails(world, admin, "Decrypt", "InvalidCiphertextException", region=EU, CiphertextBlob=forged)


def test_keys_are_listed_and_resolved_per_region(world, admin, clock):
    key_id = mrk(world, admin)
    single = make_key(world, admin)["KeyId"]
    replicate(world, admin, key_id, clock=clock)

    assert [k["KeyArn"] for k in ok(world, admin, "ListKeys", region=WEST)["Keys"]] == [arn(WEST, key_id)]
    assert [k["KeyId"] for k in ok(world, admin, "ListKeys")["Keys"]] == [key_id, single]
    assert describe(world, admin, arn(WEST, key_id), WEST)["Arn"] == arn(WEST, key_id)
    # An ARN of another Region is not found here; an id of a Region without a replica neither.
    fails(world, admin, "DescribeKey", "NotFoundException", region=WEST, KeyId=arn(EAST, key_id))
    error = fails(world, admin, "DescribeKey", "NotFoundException", region=EU, KeyId=key_id)
    assert error.message == f"Key '{arn(EU, key_id)}' does not exist"


def test_a_replica_has_its_own_policy_description_tags_and_aliases(world, admin, clock):
    key_id = mrk(world, admin, Description="primary", Tags=[{"TagKey": "site", "TagValue": "east"}])
    own = policy({"Sid": "root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                  "Action": "kms:*", "Resource": "*"})
    response = replicate(world, admin, key_id, clock=clock, Policy=own, Description="replica",
                         Tags=[{"TagKey": "site", "TagValue": "west"}])
    assert (response["ReplicaPolicy"], response["ReplicaTags"]) == (own, [{"TagKey": "site", "TagValue": "west"}])

    ok(world, admin, "TagResource", region=WEST, KeyId=key_id, Tags=[{"TagKey": "extra", "TagValue": "1"}])
    ok(world, admin, "UpdateKeyDescription", region=WEST, KeyId=key_id, Description="changed")
    ok(world, admin, "CreateAlias", region=WEST, AliasName="alias/app", TargetKeyId=key_id)
    ok(world, admin, "CreateAlias", AliasName="alias/app", TargetKeyId=key_id)
    ok(world, admin, "DeleteAlias", region=WEST, AliasName="alias/app")

    assert ok(world, admin, "ListResourceTags", KeyId=key_id)["Tags"] == [{"TagKey": "site", "TagValue": "east"}]
    assert describe(world, admin, key_id)["Description"] == "primary"
    assert describe(world, admin, key_id, WEST)["Description"] == "changed"
    assert ok(world, admin, "GetKeyPolicy", region=WEST, KeyId=key_id)["Policy"] == own
    assert ok(world, admin, "GetKeyPolicy", KeyId=key_id)["Policy"] != own
    assert [a["AliasName"] for a in ok(world, admin, "ListAliases", KeyId=key_id)["Aliases"]] == ["alias/app"]
    assert ok(world, admin, "Encrypt", KeyId="alias/app", Plaintext=b"x")["KeyId"] == arn(EAST, key_id)
    # A replica's state is its own: disabling it leaves the primary usable.
    ok(world, admin, "DisableKey", region=WEST, KeyId=key_id)
    assert describe(world, admin, key_id)["KeyState"] == "Enabled"


def test_a_replica_key_policy_governs_the_replica_only(world, admin, clock):
    user = make_user(world, admin, "dev", allow("kms:Encrypt"))
    key_id = mrk(world, admin)
    deny_dev = policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:user/dev"}, "Action": "kms:*", "Resource": "*"},
    )
    replicate(world, admin, key_id, clock=clock, Policy=deny_dev)

    ok(world, user, "Encrypt", KeyId=key_id, Plaintext=b"x")
    fails(world, user, "Encrypt", "AccessDeniedException", region=WEST, KeyId=key_id, Plaintext=b"x")


def test_replicate_key_needs_replicate_key_on_the_primary_and_create_key(world, admin):
    key_id = mrk(world, admin)
    only_replicate = make_user(world, admin, "a", allow("kms:ReplicateKey"))
    both = make_user(world, admin, "b", allow(["kms:ReplicateKey", "kms:CreateKey"]))
    no_tags = make_user(world, admin, "c", allow(["kms:ReplicateKey", "kms:CreateKey"]))
    to_eu_only = make_user(world, admin, "d", allow("kms:CreateKey"),
                           allow("kms:ReplicateKey", StringEquals={"kms:ReplicaRegion": EU}))

    error = fails(world, only_replicate, "ReplicateKey", "AccessDeniedException", KeyId=key_id, ReplicaRegion=WEST)
    assert "kms:CreateKey" in error.message
    fails(world, no_tags, "ReplicateKey", "AccessDeniedException", KeyId=key_id, ReplicaRegion=WEST,
          Tags=[{"TagKey": "t", "TagValue": "v"}])
    fails(world, to_eu_only, "ReplicateKey", "AccessDeniedException", KeyId=key_id, ReplicaRegion=WEST)
    ok(world, to_eu_only, "ReplicateKey", KeyId=key_id, ReplicaRegion=EU)
    ok(world, both, "ReplicateKey", KeyId=key_id, ReplicaRegion=WEST)


def test_create_key_sets_the_multi_region_condition_keys(world, admin):
    single_only = make_user(world, admin, "s", allow("kms:CreateKey", Bool={"kms:MultiRegion": "false"}))
    primaries = make_user(world, admin, "p", allow("kms:CreateKey", StringEquals={"kms:MultiRegionKeyType": "PRIMARY"}))

    fails(world, single_only, "CreateKey", "AccessDeniedException", MultiRegion=True)
    ok(world, single_only, "CreateKey")
    ok(world, primaries, "CreateKey", MultiRegion=True)


@pytest.mark.parametrize(
    "setup, request_, code",
    [
        ("single", {"ReplicaRegion": WEST}, "UnsupportedOperationException"),
        ("mrk", {"ReplicaRegion": EAST}, "AlreadyExistsException"),
        ("replicated", {"ReplicaRegion": WEST}, "AlreadyExistsException"),
        ("mrk", {"ReplicaRegion": "xx-nowhere-9"}, "ValidationException"),
        ("mrk", {"ReplicaRegion": "not a region"}, "ValidationException"),
    ],
)
def test_replicate_key_refusals(world, admin, clock, setup, request_, code):
    key_id = make_key(world, admin, MultiRegion=setup != "single")["KeyId"]
    if setup == "replicated":
        replicate(world, admin, key_id, clock=clock)
    before = len(world.doc["kms"]["keys"])

    fails(world, admin, "ReplicateKey", code, KeyId=key_id, **request_)
    assert len(world.doc["kms"]["keys"]) == before


def test_a_replica_cannot_be_replicated_nor_manage_rotation(world, admin, clock):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)

    fails(world, admin, "ReplicateKey", "UnsupportedOperationException", region=WEST, KeyId=key_id, ReplicaRegion=EU)
    for operation in ("EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"):
        fails(world, admin, operation, "UnsupportedOperationException", region=WEST, KeyId=key_id)


def test_rotation_of_the_primary_is_synchronized_to_its_replicas(world, admin, clock):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)
    ok(world, admin, "RotateKeyOnDemand", KeyId=key_id)
    blob = ok(world, admin, "Encrypt", KeyId=key_id, Plaintext=b"v2")["CiphertextBlob"]

    assert ciphertext.parse(blob)[1] == 1
    assert ok(world, admin, "Decrypt", region=WEST, CiphertextBlob=blob)["Plaintext"] == b"v2"
    assert describe(world, admin, key_id, WEST)["CurrentKeyMaterialId"] == describe(world, admin, key_id)["CurrentKeyMaterialId"]

    ok(world, admin, "EnableKeyRotation", KeyId=key_id, RotationPeriodInDays=90)
    status = ok(world, admin, "GetKeyRotationStatus", region=WEST, KeyId=key_id)
    assert (status["KeyRotationEnabled"], status["RotationPeriodInDays"]) == (True, 90)

    clock.t += 90 * DAY
    outcome = call(world, admin, "Encrypt", region=WEST, KeyId=key_id, Plaintext=b"v3")
    assert [r["eventName"] for r in outcome.service_records] == ["RotateKey", "SynchronizeMultiRegionKey"]
    assert {r["awsRegion"] for r in outcome.service_records} == {EAST}
    assert ciphertext.parse(outcome.response["CiphertextBlob"])[1] == 2
    assert ok(world, admin, "Decrypt", CiphertextBlob=outcome.response["CiphertextBlob"])["Plaintext"] == b"v3"


def test_update_primary_region_swaps_the_roles(world, admin, clock):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)
    replicate(world, admin, key_id, EU, clock=clock)

    outcome = call(world, admin, "UpdatePrimaryRegion", KeyId=key_id, PrimaryRegion=WEST)
    assert outcome.error is None
    assert describe(world, admin, key_id)["KeyState"] == "Updating"
    assert describe(world, admin, key_id, WEST)["KeyState"] == "Updating"
    fails(world, admin, "Encrypt", "KMSInvalidStateException", KeyId=key_id, Plaintext=b"x")
    # ct-update-primary-region: one record in each Region.
    assert [(r["eventName"], r["awsRegion"], r["resources"][0]["ARN"]) for r in [outcome.record] + outcome.later_records] == [
        ("UpdatePrimaryRegion", EAST, arn(EAST, key_id)), ("UpdatePrimaryRegion", WEST, arn(WEST, key_id))]

    clock.t += SETTLE_SECONDS
    for region in (EAST, WEST, EU):
        meta = describe(world, admin, key_id, region)
        assert meta["KeyState"] == "Enabled"
        assert meta["MultiRegionConfiguration"]["PrimaryKey"] == {"Arn": arn(WEST, key_id), "Region": WEST}
        assert meta["MultiRegionConfiguration"]["ReplicaKeys"] == [
            {"Arn": arn(EAST, key_id), "Region": EAST}, {"Arn": arn(EU, key_id), "Region": EU}]
    assert describe(world, admin, key_id)["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    # Now rotation is managed in the new primary's Region.
    fails(world, admin, "RotateKeyOnDemand", "UnsupportedOperationException", KeyId=key_id)
    ok(world, admin, "RotateKeyOnDemand", region=WEST, KeyId=key_id)


def test_update_primary_region_refusals_and_permissions(world, admin, clock):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)
    single = make_key(world, admin)["KeyId"]

    fails(world, admin, "UpdatePrimaryRegion", "NotFoundException", KeyId=key_id, PrimaryRegion=EU)
    fails(world, admin, "UpdatePrimaryRegion", "UnsupportedOperationException", KeyId=single, PrimaryRegion=WEST)
    fails(world, admin, "UpdatePrimaryRegion", "UnsupportedOperationException", region=WEST, KeyId=key_id,
          PrimaryRegion=WEST)
    # Permission on both keys: an IAM policy on the primary's ARN alone is not enough.
    east_only = make_user(world, admin, "e", allow("kms:UpdatePrimaryRegion", arn(EAST, key_id)))
    error = fails(world, east_only, "UpdatePrimaryRegion", "AccessDeniedException", KeyId=key_id, PrimaryRegion=WEST)
    assert arn(WEST, key_id) in error.message
    ok(world, admin, "DisableKey", region=WEST, KeyId=key_id)
    fails(world, admin, "UpdatePrimaryRegion", "DisabledException", KeyId=key_id, PrimaryRegion=WEST)


def test_a_replica_is_deleted_after_its_own_window(world, admin, clock):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)
    blob = ok(world, admin, "Encrypt", KeyId=key_id, Plaintext=b"kept")["CiphertextBlob"]

    response = ok(world, admin, "ScheduleKeyDeletion", region=WEST, KeyId=key_id, PendingWindowInDays=7)
    assert (response["KeyState"], response["DeletionDate"]) == ("PendingDeletion", clock.t + 7 * DAY)
    clock.t += 7 * DAY
    outcome = call(world, admin, "ListKeys", region=WEST)
    assert outcome.response["Keys"] == []
    assert [(r["eventName"], r["awsRegion"]) for r in outcome.service_records] == [("DeleteKey", WEST)]
    assert describe(world, admin, key_id)["MultiRegionConfiguration"]["ReplicaKeys"] == []
    # The primary still decrypts what either made; the deleted Region says the key is gone.
    assert ok(world, admin, "Decrypt", CiphertextBlob=blob)["Plaintext"] == b"kept"
    assert fails(world, admin, "Decrypt", "AccessDeniedException", region=WEST, CiphertextBlob=blob).message == KEY_GONE
    # And the primary can be replicated there again.
    replicate(world, admin, key_id, clock=clock)
    assert ok(world, admin, "Decrypt", region=WEST, CiphertextBlob=blob)["Plaintext"] == b"kept"


def test_a_primary_with_replicas_waits_for_them_pending_replica_deletion(world, admin, clock):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)

    response = ok(world, admin, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=10)
    assert response == {"KeyId": arn(EAST, key_id), "KeyState": "PendingReplicaDeletion", "PendingWindowInDays": 10}
    meta = describe(world, admin, key_id)
    assert (meta["KeyState"], meta["PendingDeletionWindowInDays"], "DeletionDate" in meta) == ("PendingReplicaDeletion", 10, False)
    fails(world, admin, "Encrypt", "KMSInvalidStateException", KeyId=key_id, Plaintext=b"x")
    fails(world, admin, "ReplicateKey", "KMSInvalidStateException", KeyId=key_id, ReplicaRegion=EU)
    fails(world, admin, "ScheduleKeyDeletion", "KMSInvalidStateException", KeyId=key_id)

    clock.t += 100 * DAY
    assert describe(world, admin, key_id)["KeyState"] == "PendingReplicaDeletion"  # it waits, however long
    ok(world, admin, "ScheduleKeyDeletion", region=WEST, KeyId=key_id, PendingWindowInDays=7)
    replica_gone = clock.t + 7 * DAY
    clock.t += 7 * DAY
    meta = describe(world, admin, key_id)
    assert (meta["KeyState"], meta["DeletionDate"]) == ("PendingDeletion", replica_gone + 10 * DAY)
    clock.t += 10 * DAY
    outcome = call(world, admin, "ListKeys")
    assert outcome.response["Keys"] == []
    assert [r["eventName"] for r in outcome.service_records] == ["DeleteKey"]


def test_cancelling_a_pending_replica_deletion_leaves_the_primary_disabled(world, admin, clock):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)
    ok(world, admin, "ScheduleKeyDeletion", KeyId=key_id)

    ok(world, admin, "CancelKeyDeletion", KeyId=key_id)
    meta = describe(world, admin, key_id)
    assert meta["KeyState"] == "Disabled"
    assert "PendingDeletionWindowInDays" not in meta


def test_imported_material_is_imported_into_each_related_key(world, admin, clock):
    key_id = mrk(world, admin, Origin="EXTERNAL")
    import_material(world, admin, key_id, b"\x05" * 32)
    replicate(world, admin, key_id, clock=clock)
    blob = ok(world, admin, "Encrypt", KeyId=key_id, Plaintext=b"imp")["CiphertextBlob"]

    assert describe(world, admin, key_id, WEST)["KeyState"] == "PendingImport"
    params = ok(world, admin, "GetParametersForImport", KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256",
                WrappingKeySpec="RSA_2048")
    # A primary's import token is not good for its replica.
    fails(world, admin, "ImportKeyMaterial", "InvalidImportTokenException", region=WEST,
          **import_request(key_id, params, b"\x05" * 32, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE"))
    with pytest.raises(AssertionError, match="IncorrectKeyMaterialException"):
        import_material(world, admin, key_id, b"\x06" * 32, region=WEST)
    import_material(world, admin, key_id, b"\x05" * 32, region=WEST)
    assert ok(world, admin, "Decrypt", region=WEST, CiphertextBlob=blob)["Plaintext"] == b"imp"


def test_replicate_key_is_recorded_in_both_regions(world, admin, clock):
    key_id = mrk(world, admin)
    outcome = call(world, admin, "ReplicateKey", KeyId=key_id, ReplicaRegion=WEST, Description="d")

    assert outcome.service_records == []
    replicate_record, create_record = outcome.records
    assert (replicate_record["eventName"], replicate_record["awsRegion"]) == ("ReplicateKey", EAST)
    assert replicate_record["requestParameters"] == {
        "bypassPolicyLockoutSafetyCheck": False, "description": "d", "keyId": key_id, "replicaRegion": WEST}
    assert replicate_record["responseElements"]["replicaKeyMetadata"]["keyState"] == "Creating"
    assert replicate_record["resources"] == [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": arn(EAST, key_id)}]
    assert (create_record["eventName"], create_record["awsRegion"]) == ("CreateKey", WEST)
    assert create_record["resources"][0]["ARN"] == arn(WEST, key_id)
    assert create_record["userIdentity"] == replicate_record["userIdentity"]
    assert create_record["eventID"] != replicate_record["eventID"]
    # A refused ReplicateKey writes its own record only.
    assert len(call(world, admin, "ReplicateKey", KeyId=key_id, ReplicaRegion=WEST).records) == 1


def test_related_keys_survive_the_per_entity_store(world, admin, clock, master_key):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)
    blob = ok(world, admin, "Encrypt", KeyId=key_id, Plaintext=b"stored")["CiphertextBlob"]

    names = [name for section, name, _ in world.rows() if section == "kms.keys"]
    assert names == [f"{key_id}/{EAST}", f"{key_id}/{WEST}"]
    again = World.from_rows(world.rows(), master_key, world.clock)
    assert ok(again, admin, "Decrypt", region=WEST, CiphertextBlob=blob)["Plaintext"] == b"stored"
    assert [k["KeyId"] for k in ok(again, admin, "ListKeys", region=WEST)["Keys"]] == [key_id]


def test_the_replica_region_and_primary_region_condition_keys(world, admin, clock):
    key_id = mrk(world, admin)
    no_replicas = make_user(world, admin, "n", allow("kms:ReplicateKey"),
                            allow("kms:CreateKey", StringEquals={"kms:MultiRegionKeyType": "PRIMARY"}))
    to_west = make_user(world, admin, "w", allow(["kms:UpdatePrimaryRegion"], StringEquals={"kms:PrimaryRegion": WEST}))

    # ReplicateKey's CreateKey in the replica Region is asked with kms:MultiRegionKeyType REPLICA.
    fails(world, no_replicas, "ReplicateKey", "AccessDeniedException", KeyId=key_id, ReplicaRegion=WEST)
    replicate(world, admin, key_id, clock=clock)
    replicate(world, admin, key_id, EU, clock=clock)
    fails(world, to_west, "UpdatePrimaryRegion", "AccessDeniedException", KeyId=key_id, PrimaryRegion=EU)
    ok(world, to_west, "UpdatePrimaryRegion", KeyId=key_id, PrimaryRegion=WEST)


def test_kms_multi_region_key_type_tells_primary_from_replica(world, admin, clock):
    key_id = mrk(world, admin)
    replicate(world, admin, key_id, clock=clock)
    primary_only = make_user(world, admin, "p", allow("kms:Encrypt", StringEquals={"kms:MultiRegionKeyType": "PRIMARY"}))

    ok(world, primary_only, "Encrypt", KeyId=key_id, Plaintext=b"x")
    fails(world, primary_only, "Encrypt", "AccessDeniedException", region=WEST, KeyId=key_id, Plaintext=b"x")

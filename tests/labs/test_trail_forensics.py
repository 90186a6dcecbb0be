"""trail-forensics: mallory's probes are the lab's trail; the answers (her key, her policy, the tenant she read) are acted on."""
import json

from kmslab.cloud import principals

from .labrun import LabRun, arn

SLUG = "trail-forensics"
KEY = "alias/tenant-data"


def mallorys(run):
    return [r for r in run.records if r["userIdentity"].get("userName") == "mallory"]


def kill_access_key(run):
    keys = run.call("admin", "ListAccessKeys", service="iam", UserName="mallory").response["AccessKeyMetadata"]
    for key in keys:
        assert run.call("admin", "DeleteAccessKey", service="iam", UserName="mallory",
                        AccessKeyId=key["AccessKeyId"]).error is None


def tag(run, alias, value):
    return run.call("admin", "TagResource", KeyId=run.keys[alias], Tags=[{"TagKey": "Investigated", "TagValue": value}])


def bob_reads_acme(run):
    return run.call("bob", "Decrypt", CiphertextBlob=run.blob("acme-record"), EncryptionContext={"tenant": "acme"})


def test_the_trail_starts_with_mallorys_probes_and_one_successful_decrypt():
    run = LabRun(SLUG)
    records = mallorys(run)
    assert [r["eventName"] for r in records] == [
        "ListKeys", "DescribeKey", "Decrypt", "DescribeKey", "Decrypt", "Decrypt", "CreateGrant"]
    assert {r["userIdentity"]["accessKeyId"] for r in records} == {run.creds["mallory"]["access_key_id"]}
    read = [r for r in records if r["eventName"] == "Decrypt" and not r.get("errorCode")]
    assert len(read) == 1
    assert read[0]["requestParameters"]["encryptionContext"] == {"tenant": "initech"}
    assert read[0]["resources"][0]["ARN"] == run.keys[KEY]
    wrong_context = [r for r in records if r.get("errorCode") == "InvalidCiphertextException"]
    assert wrong_context[0]["requestParameters"]["encryptionContext"] == {"tenant": "acme"}
    # The probes' authorization decisions are kept beside their records.
    trail = run.world.doc["lab"]["trail"]
    assert trail[2]["explanations"] and trail[2]["record"]["errorCode"] == "AccessDeniedException"
    assert not any(run.status().values())


def test_the_seeded_trail_survives_the_world_document():
    run = LabRun(SLUG)
    doc = json.loads(json.dumps(run.world.doc))
    assert [e["record"]["eventID"] for e in doc["lab"]["trail"]] == [r["eventID"] for r in run.records]


def test_a_deny_policy_and_a_key_policy_deny_are_other_correct_containments():
    for where in ("iam", "key"):
        run = LabRun(SLUG)
        kill_access_key(run)
        deny = {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}
        if where == "iam":
            assert run.call("admin", "PutUserPolicy", service="iam", UserName="mallory", PolicyName="quarantine",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [deny]})).error is None
        else:
            assert run.put_key_policy(KEY, [dict(deny, Principal={"AWS": arn("A", "mallory")})],
                                      delegate=True).error is None
        assert tag(run, KEY, "initech").error is None
        assert bob_reads_acme(run).error is None
        assert all(run.status().values()), (where, run.status())


def test_the_old_credential_stops_working_when_deleted():
    run = LabRun(SLUG)
    kill_access_key(run)
    assert principals.caller_for_access_key(run.world, run.creds["mallory"]["access_key_id"]) is None
    assert run.status()["access-key-dead"] is True


def test_tagging_the_tenant_of_the_failed_decrypt_or_the_wrong_key_fails():
    run = LabRun(SLUG)
    tag(run, KEY, "acme")  # the context she tried on globex's record: InvalidCiphertextException, nothing read
    assert run.status()["tenant-tagged"] is False
    tag(run, KEY, "globex")
    assert run.status()["tenant-tagged"] is False
    tag(run, "alias/hr", "initech")  # she was denied on the HR key
    tag(run, KEY, "initech")
    assert run.status()["tenant-tagged"] is False
    run.call("admin", "UntagResource", KeyId=run.keys["alias/hr"], TagKeys=["Investigated"])
    assert run.status()["tenant-tagged"] is True


def test_cutting_the_key_off_for_everyone_fails_the_containment():
    run = LabRun(SLUG)
    # Removing the root statement stops mallory's IAM policy, and bob's.
    assert run.put_key_policy(KEY, []).error is None
    assert bob_reads_acme(run).error.code == "AccessDeniedException"
    assert run.status()["decrypt-door-closed"] is False


def test_deleting_the_access_key_alone_leaves_the_permission():
    run = LabRun(SLUG)
    kill_access_key(run)
    status = run.status()
    assert status["access-key-dead"] is True and status["decrypt-door-closed"] is False


def test_disabling_the_key_is_not_removing_her_permission():
    run = LabRun(SLUG)
    assert run.call("admin", "DisableKey", KeyId=run.keys[KEY]).error is None
    assert run.status()["decrypt-door-closed"] is False

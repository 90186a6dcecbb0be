"""grants: a narrow, constrained grant for bob, used, then ended; a forgotten grant for mallory revoked."""
from .labrun import LabRun, arn

SLUG = "grants"
KEY = "alias/tenant-reports"
BOB = arn("A", "bob")


def decrypt(run, who, tenant):
    return run.call(who, "Decrypt", CiphertextBlob=run.blob(f"{tenant}-report"), EncryptionContext={"tenant": tenant})


def grant(run, operations=("Decrypt",), constraints=None, grantee=BOB, retiring=BOB):
    request = {"KeyId": run.keys[KEY], "GranteePrincipal": grantee, "Operations": list(operations)}
    if retiring:
        request["RetiringPrincipal"] = retiring
    if constraints:
        request["Constraints"] = constraints
    outcome = run.call("alice", "CreateGrant", **request)
    assert outcome.error is None, outcome.error
    return outcome.response


def grants_of(run, grantee):
    listed = run.call("alice", "ListGrants", KeyId=run.keys[KEY]).response["Grants"]
    return [g for g in listed if g["GranteePrincipal"] == grantee]


def revoke_mallorys(run):
    (stale,) = grants_of(run, arn("A", "mallory"))
    assert stale["Name"] == "migration-2025" and "Constraints" not in stale
    assert run.call("alice", "RevokeGrant", KeyId=run.keys[KEY], GrantId=stale["GrantId"]).error is None


def test_at_the_start_bob_is_denied_mallory_reads_everything_and_nothing_counts():
    run = LabRun(SLUG)
    assert decrypt(run, "bob", "acme").error.code == "AccessDeniedException"
    assert decrypt(run, "mallory", "globex").error is None  # the forgotten migration grant
    assert not any(run.status().values())


def test_equals_constraint_and_revoke_by_alice_is_a_second_correct_solution():
    run = LabRun(SLUG)
    made = grant(run, constraints={"EncryptionContextEquals": {"tenant": "acme"}}, retiring=None)
    assert run.status()["bob-grant"] is True
    assert decrypt(run, "bob", "acme").error is None
    assert decrypt(run, "bob", "globex").error.code == "AccessDeniedException"
    assert run.call("alice", "RevokeGrant", KeyId=run.keys[KEY], GrantId=made["GrantId"]).error is None
    revoke_mallorys(run)
    assert decrypt(run, "mallory", "acme").error.code == "AccessDeniedException"
    # bob's grant is gone, but the CreateGrant in the trail still shows it was the right one.
    assert all(run.status().values()), run.status()


def test_bob_retires_his_own_grant_with_its_token():
    run = LabRun(SLUG)
    made = grant(run, constraints={"EncryptionContextSubset": {"tenant": "acme"}})
    assert decrypt(run, "bob", "acme").error is None
    assert run.call("bob", "RetireGrant", GrantToken=made["GrantToken"]).error is None
    assert decrypt(run, "bob", "acme").error.code == "AccessDeniedException"
    status = run.status()
    assert status["bob-grant"] and status["bob-decrypts-acme"] and status["bob-grant-ended"], status
    assert status["stale-grant-revoked"] is False


def test_a_grant_without_a_constraint_lets_bob_read_globex_and_fails():
    run = LabRun(SLUG)
    grant(run)
    assert decrypt(run, "bob", "globex").error is None
    assert run.status()["bob-grant"] is False


def test_a_grant_with_more_operations_than_decrypt_fails():
    run = LabRun(SLUG)
    grant(run, operations=["Decrypt", "Encrypt", "CreateGrant"], constraints={"EncryptionContextSubset": {"tenant": "acme"}})
    assert decrypt(run, "bob", "acme").error is None
    assert run.status()["bob-grant"] is False


def test_a_key_policy_statement_instead_of_a_grant_fails():
    run = LabRun(SLUG)
    assert run.put_key_policy(KEY, [
        {"Sid": "KeyAdministrator", "Effect": "Allow", "Principal": {"AWS": arn("A", "alice")},
         "Action": ["kms:DescribeKey", "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": BOB}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}]).error is None
    assert decrypt(run, "bob", "acme").error is None
    assert decrypt(run, "bob", "globex").error.code == "AccessDeniedException"
    assert run.status()["bob-grant"] is False  # the right access, but not through a grant


def test_leaving_bobs_grant_in_place_fails_the_last_step():
    run = LabRun(SLUG)
    grant(run, constraints={"EncryptionContextSubset": {"tenant": "acme"}})
    decrypt(run, "bob", "acme")
    revoke_mallorys(run)  # a RevokeGrant in the trail, but not of bob's grant
    status = run.status()
    assert status["stale-grant-revoked"] is True and status["bob-grant-ended"] is False


def test_denying_mallory_in_the_key_policy_leaves_the_grant_and_fails():
    run = LabRun(SLUG)
    assert run.put_key_policy(KEY, [
        {"Sid": "KeyAdministrator", "Effect": "Allow", "Principal": {"AWS": arn("A", "alice")},
         "Action": ["kms:DescribeKey", "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": arn("A", "mallory")}, "Action": "kms:*", "Resource": "*"}]).error is None
    assert decrypt(run, "mallory", "acme").error.code == "AccessDeniedException"
    assert run.status()["stale-grant-revoked"] is False  # the grant is still there, waiting for the deny to go


def test_mallory_cannot_retire_or_revoke_anything():
    run = LabRun(SLUG)
    (stale,) = grants_of(run, arn("A", "mallory"))
    assert run.call("mallory", "RetireGrant", KeyId=run.keys[KEY], GrantId=stale["GrantId"]).error.code == \
        "AccessDeniedException"
    assert run.status()["stale-grant-revoked"] is False

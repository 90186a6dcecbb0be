"""Authorization decisions per second, explanation included.

A realistic set: a key policy of 6 statements with conditions, a role whose
session carries 3 IAM policies, 2 grants on the key. Each round decides three
requests (the role through the key policy's delegation and IAM; a grantee
through its grant; a user who is denied, with the nearest statement found)
and turns each decision into its JSON explanation, as every call does.

    .venv/bin/python scripts/bench_policy.py [seconds]
"""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kmslab.cloud import iam, principals  # noqa: E402
from kmslab.cloud.kms import access  # noqa: E402
from kmslab.cloud.world import World  # noqa: E402

A, B = "111122223333", "444455556666"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:{A}:key/{KEY_ID}"


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def build():
    world = World.new(os.urandom(32))
    for account in (A, B):
        world.add_account(account)
    role = iam.add_role(world, A, "app", policy())
    role["InlinePolicies"] = {
        "use": policy({"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                       "Resource": f"arn:aws:kms:*:{A}:key/*",
                       "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}),
        "describe": policy({"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}),
        "guard": policy({"Effect": "Deny", "Action": "kms:*", "Resource": "*",
                         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
    }
    role["Tags"] = [{"Key": "team", "Value": "payments"}]
    alice = iam.add_user(world, A, "alice")
    carol = iam.add_user(world, A, "carol")
    key_policy = policy(
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "KeyAdmins", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:role/app"},
         "Action": ["kms:Describe*", "kms:Put*", "kms:ScheduleKeyDeletion"], "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}, "NumericLessThan": {"aws:MultiFactorAuthAge": "900"}}},
        {"Sid": "UseFromAccountB", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:dept": "payments"}}},
        {"Sid": "ViaS3", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": A}}},
        {"Sid": "DenyNoContext", "Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"Null": {"kms:EncryptionContextKeys": "true"}}},
        {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:role/app"},
         "Action": "kms:CreateGrant", "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    )
    key = {
        "KeyMetadata": {"AWSAccountId": A, "KeyId": KEY_ID, "Arn": KEY_ARN, "KeySpec": "SYMMETRIC_DEFAULT",
                        "KeyUsage": "ENCRYPT_DECRYPT", "Origin": "AWS_KMS", "MultiRegion": False},
        "Region": "us-east-1", "Policy": key_policy, "Tags": [{"TagKey": "team", "TagValue": "payments"}],
    }
    world.doc["kms"]["keys"][KEY_ID] = key
    for i, (grantee, constraints) in enumerate([(carol["Arn"], {"EncryptionContextSubset": {"dept": "payments"}}),
                                                (f"arn:aws:iam::{B}:root", {})]):
        grant_id = f"{i:064x}"
        world.doc["kms"]["grants"][grant_id] = {
            "KeyId": KEY_ARN, "GrantId": grant_id, "GranteePrincipal": grantee,
            "IssuingAccount": f"arn:aws:iam::{A}:root", "Operations": ["Encrypt", "Decrypt"], "Constraints": constraints}
    now = world.now()
    session = principals.role_session_caller(A, role, "i-1", mfa_authenticated=False, session_created=now,
                                             secure_transport=True)
    context = {"kms:EncryptionContext:dept": "payments", "kms:EncryptionContextKeys": ["dept"],
               "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    requests = [
        (session, "kms:Encrypt", context, "Allow"),
        (principals.user_caller(A, carol, secure_transport=True), "kms:Decrypt", context, "Allow"),
        (principals.user_caller(A, alice, secure_transport=True), "kms:Decrypt", context, "ImplicitDeny"),
    ]
    return world, key, requests


def main(seconds=3.0):
    world, key, requests = build()
    for caller, action, context, expected in requests:
        decision = access.decide(world, caller, action, key, context)
        assert decision.decision == expected, (caller.arn, decision.to_dict())
    count = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            for caller, action, context, _ in requests:
                access.decide(world, caller, action, key, context).to_dict()
        count += 200 * len(requests)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    # CPU time is what one core spends; wall time also counts other processes on a busy machine.
    print(f"{count / cpu:,.0f} decisions per CPU-second ({count / elapsed:,.0f}/s wall clock), explanation "
          f"included; key policy of 6 statements with conditions, 3 IAM policies, 2 grants; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)

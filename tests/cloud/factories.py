"""Plain factories for the cloud's tests: run a call, make users, roles, keys, policies.

A call names its operation as "service:Operation" ("iam:CreateUser"), or by its
name alone for KMS ("Encrypt"), the service most tests are about.
"""
import json
import weakref

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from kmslab.cloud import calls, mfa, principals
from kmslab.cloud.cloudtrail import RecordList

ACCOUNT_A, ACCOUNT_B = "111122223333", "444455556666"
# The frozen clock's start (tests/conftest.py). Not imported from there: in a whole-suite
# run, "conftest" may name tests/api/conftest.py instead.
T0 = 1_795_000_000.0
DAY = 86400


# Each world's trail, as the sandbox layer would store it: what LookupEvents and GetKeyLastUsage read.
TRAILS = weakref.WeakKeyDictionary()


def call(world, caller, target, region=None, **request):
    """Run one call (in `region`, the world's own when None); returns its Outcome."""
    service, _, operation = target.rpartition(":")
    trail = TRAILS.setdefault(world, RecordList([]))
    outcome = calls.call(world, caller, service or "kms", operation, request, region, trail_source=trail)
    trail.records.extend(outcome.records)
    return outcome


def ok(world, caller, target, region=None, **request):
    outcome = call(world, caller, target, region, **request)
    assert outcome.error is None, f"{outcome.error.code}: {outcome.error.message}"
    return outcome.response


def fails(world, caller, target, code=None, region=None, **request):
    """The error of a call that must fail (with `code`, when given)."""
    outcome = call(world, caller, target, region, **request)
    assert outcome.error is not None, f"{target} succeeded: {outcome.response}"
    assert code in (None, outcome.error.code), f"{outcome.error.code}: {outcome.error.message}"
    return outcome.error


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **condition):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def deny(action, resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def trust(principal, **condition):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return policy(statement)


def make_user(world, admin, name, *statements):
    """A user in the admin's account with an inline policy of these statements, signing with its own key."""
    ok(world, admin, "iam:CreateUser", UserName=name)
    if statements:
        ok(world, admin, "iam:PutUserPolicy", UserName=name, PolicyName="lab", PolicyDocument=policy(*statements))
    key = ok(world, admin, "iam:CreateAccessKey", UserName=name)["AccessKey"]
    return principals.caller_for_access_key(world, key["AccessKeyId"])


def make_role(world, admin, name, trust_policy, *statements):
    role = ok(world, admin, "iam:CreateRole", RoleName=name, AssumeRolePolicyDocument=trust_policy)["Role"]
    if statements:
        ok(world, admin, "iam:PutRolePolicy", RoleName=name, PolicyName="lab", PolicyDocument=policy(*statements))
    return role


def enable_mfa(world, admin, user_name):
    """A virtual MFA device enabled for the user, as a learner does it with an app: -> (serial, seed)."""
    device = ok(world, admin, "iam:CreateVirtualMFADevice", VirtualMFADeviceName=user_name)["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = world.clock.real()
    ok(world, admin, "iam:EnableMFADevice", UserName=user_name, SerialNumber=device["SerialNumber"],
       AuthenticationCode1=mfa.totp(seed, now - 30), AuthenticationCode2=mfa.totp(seed, now))
    return device["SerialNumber"], seed


def session(world, credentials):
    """The caller behind temporary credentials an STS call returned."""
    return principals.caller_for_access_key(world, credentials["AccessKeyId"])


def make_key(world, caller, **request):
    """A new key's KeyMetadata."""
    return ok(world, caller, "CreateKey", **request)["KeyMetadata"]


def wrap(public_key_der, material, algorithm="RSAES_OAEP_SHA_256", aes_key=bytes(range(32))):
    """Wrap key material as a learner would with openssl, under GetParametersForImport's public key."""
    public_key = serialization.load_der_public_key(public_key_der)
    digest = hashes.SHA1() if algorithm.endswith("SHA_1") else hashes.SHA256()
    oaep = padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
    if algorithm.startswith("RSA_AES_KEY_WRAP"):
        return public_key.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)
    return public_key.encrypt(material, oaep)


def import_request(key_id, params, material, algorithm="RSAES_OAEP_SHA_256", **request):
    """ImportKeyMaterial's request: `material` wrapped under the public key in GetParametersForImport's `params`."""
    return {"KeyId": key_id, "ImportToken": params["ImportToken"],
            "EncryptedKeyMaterial": wrap(params["PublicKey"], material, algorithm), **request}


def import_material(world, caller, key_id, material, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048", region=None, **request):
    """GetParametersForImport, wrap, ImportKeyMaterial (material that never expires unless told)."""
    params = ok(world, caller, "GetParametersForImport", region, KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=spec)
    request.setdefault("ExpirationModel", "KEY_MATERIAL_DOES_NOT_EXPIRE")
    return ok(world, caller, "ImportKeyMaterial", region, **import_request(key_id, params, material, algorithm, **request))


def key_in_state(world, caller, state):
    """(key id, a ciphertext made under it while it was Enabled) for a key in `state`.

    Enabled, Disabled and PendingDeletion keys have KMS-made material; the
    PendingImport key is an EXTERNAL key whose imported material was deleted."""
    if state == "PendingImport":
        key_id = make_key(world, caller, Origin="EXTERNAL")["KeyId"]
        import_material(world, caller, key_id, b"\x07" * 32)
    else:
        key_id = make_key(world, caller)["KeyId"]
    blob = ok(world, caller, "Encrypt", KeyId=key_id, Plaintext=b"made while enabled")["CiphertextBlob"]
    if state == "Disabled":
        ok(world, caller, "DisableKey", KeyId=key_id)
    elif state == "PendingDeletion":
        ok(world, caller, "ScheduleKeyDeletion", KeyId=key_id)
    elif state == "PendingImport":
        ok(world, caller, "DeleteImportedKeyMaterial", KeyId=key_id)
    return key_id, blob

"""GenerateMac and VerifyMac with HMAC keys, checked against `cryptography`'s HMAC where the
material is known outside (imported material)."""
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, hmac

from ..factories import allow, call, fails, import_material, make_key, make_user, ok

SPECS = ["HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"]
DIGESTS = {"HMAC_224": hashes.SHA224, "HMAC_256": hashes.SHA256, "HMAC_384": hashes.SHA384, "HMAC_512": hashes.SHA512}


def hmac_key(world, admin, spec="HMAC_256", **request):
    return make_key(world, admin, KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC", **request)


def algorithm(spec):
    return f"HMAC_SHA_{spec[5:]}"


def outside_mac(material, spec, message):
    mac = hmac.HMAC(material, DIGESTS[spec]())
    mac.update(message)
    return mac.finalize()


@pytest.mark.parametrize("spec", SPECS)
def test_a_mac_made_in_kms_verifies_in_kms(world, admin, spec):
    key = hmac_key(world, admin, spec)

    made = ok(world, admin, "GenerateMac", KeyId=key["KeyId"], MacAlgorithm=algorithm(spec), Message=b"pay 10 EUR")
    verified = ok(world, admin, "VerifyMac", KeyId=key["KeyId"], MacAlgorithm=algorithm(spec), Message=b"pay 10 EUR",
                  Mac=made["Mac"])

    assert (made["KeyId"], made["MacAlgorithm"]) == (key["Arn"], algorithm(spec))
    assert len(made["Mac"]) == DIGESTS[spec].digest_size
    assert verified == {"KeyId": key["Arn"], "MacValid": True, "MacAlgorithm": algorithm(spec)}


def test_the_same_message_always_has_the_same_mac(world, admin):
    key = hmac_key(world, admin)
    request = dict(KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"token")

    assert ok(world, admin, "GenerateMac", **request)["Mac"] == ok(world, admin, "GenerateMac", **request)["Mac"]


@pytest.mark.parametrize("change", ["another key", "changed message", "changed mac"])
def test_a_mac_is_valid_only_for_its_key_and_message(world, admin, change):
    key, other = hmac_key(world, admin), hmac_key(world, admin)
    mac = ok(world, admin, "GenerateMac", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"pay 10 EUR")["Mac"]
    request = dict(KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"pay 10 EUR", Mac=mac)
    if change == "another key":
        request["KeyId"] = other["KeyId"]
    elif change == "changed message":
        request["Message"] = b"pay 99 EUR"
    else:
        request["Mac"] = mac[:-1] + bytes([mac[-1] ^ 1])

    error = fails(world, admin, "VerifyMac", "KMSInvalidMacException", **request)

    assert error.status == 400


@pytest.mark.parametrize("operation", ["GenerateMac", "VerifyMac"])
def test_each_hmac_key_takes_only_its_own_algorithm(world, admin, operation):
    key = hmac_key(world, admin, "HMAC_224")
    request = dict(KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"m")
    if operation == "VerifyMac":
        request["Mac"] = b"\x00" * 32

    error = fails(world, admin, operation, "InvalidKeyUsageException", **request)

    assert error.message == "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224."


@pytest.mark.parametrize("operation", ["GenerateMac", "VerifyMac"])
def test_a_key_of_another_usage_makes_no_mac(world, admin, operation):
    key = make_key(world, admin)
    request = dict(KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"m")
    if operation == "VerifyMac":
        request["Mac"] = b"\x00" * 32

    error = fails(world, admin, operation, "InvalidKeyUsageException", **request)

    assert error.message == f"{key['Arn']} key usage is ENCRYPT_DECRYPT which is not valid for {operation}."


def test_a_message_is_at_most_4096_bytes(world, admin):
    key = hmac_key(world, admin)

    ok(world, admin, "GenerateMac", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"m" * 4096)
    fails(world, admin, "GenerateMac", "ValidationException", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256",
          Message=b"m" * 4097)


def test_a_disabled_key_makes_no_mac(world, admin):
    key = hmac_key(world, admin)
    ok(world, admin, "DisableKey", KeyId=key["KeyId"])

    fails(world, admin, "GenerateMac", "DisabledException", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"m")


def test_an_alias_names_the_key(world, admin):
    key = hmac_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/tokens", TargetKeyId=key["KeyId"])

    made = ok(world, admin, "GenerateMac", KeyId="alias/tokens", MacAlgorithm="HMAC_SHA_256", Message=b"m")

    assert made["KeyId"] == key["Arn"]


def test_dry_run_stops_after_every_check(world, admin):
    key = hmac_key(world, admin)

    fails(world, admin, "GenerateMac", "DryRunOperationException", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256",
          Message=b"m", DryRun=True)
    fails(world, admin, "GenerateMac", "InvalidKeyUsageException", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_512",
          Message=b"m", DryRun=True)


def test_the_mac_algorithm_is_a_condition_key(world, admin):
    key_256, key_384 = hmac_key(world, admin, "HMAC_256"), hmac_key(world, admin, "HMAC_384")
    carol = make_user(world, admin, "carol", allow("kms:GenerateMac", StringEquals={"kms:MacAlgorithm": "HMAC_SHA_384"}))

    ok(world, carol, "GenerateMac", KeyId=key_384["KeyId"], MacAlgorithm="HMAC_SHA_384", Message=b"m")
    fails(world, carol, "GenerateMac", "AccessDeniedException", KeyId=key_256["KeyId"], MacAlgorithm="HMAC_SHA_256",
          Message=b"m")


def test_verifying_needs_its_own_permission(world, admin):
    key = hmac_key(world, admin)
    carol = make_user(world, admin, "carol", allow("kms:GenerateMac"))
    mac = ok(world, carol, "GenerateMac", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"m")["Mac"]

    fails(world, carol, "VerifyMac", "AccessDeniedException", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256",
          Message=b"m", Mac=mac)


def test_a_grant_token_is_checked_and_a_grant_allows(world, admin):
    key = hmac_key(world, admin)
    carol = make_user(world, admin, "carol")
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["GenerateMac"])
    request = dict(KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"m")

    ok(world, carol, "GenerateMac", GrantTokens=[grant["GrantToken"]], **request)
    fails(world, carol, "GenerateMac", "InvalidGrantTokenException", GrantTokens=["not a token"], **request)


def test_cloudtrail_logs_neither_the_message_nor_the_mac(world, admin):
    key = hmac_key(world, admin, "HMAC_512")
    made = call(world, admin, "GenerateMac", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_512", Message=b"secret")
    verified = call(world, admin, "VerifyMac", KeyId=key["Arn"], MacAlgorithm="HMAC_SHA_512", Message=b"secret",
                    Mac=made.response["Mac"])

    # ct-generatemac, ct-verifymac.
    assert made.record["requestParameters"] == {"keyId": key["KeyId"], "macAlgorithm": "HMAC_SHA_512"}
    assert verified.record["requestParameters"] == {"keyId": key["Arn"], "macAlgorithm": "HMAC_SHA_512"}
    assert made.record["responseElements"] is None and verified.record["responseElements"] is None


@pytest.mark.parametrize("spec", SPECS)
def test_with_imported_material_a_mac_made_outside_verifies_and_kms_makes_the_same(world, admin, spec):
    key = hmac_key(world, admin, spec, Origin="EXTERNAL")
    material = os.urandom(64)
    import_material(world, admin, key["KeyId"], material)
    message = b"order 42 shipped"
    mac = outside_mac(material, spec, message)

    verified = ok(world, admin, "VerifyMac", KeyId=key["KeyId"], MacAlgorithm=algorithm(spec), Message=message, Mac=mac)
    made = ok(world, admin, "GenerateMac", KeyId=key["KeyId"], MacAlgorithm=algorithm(spec), Message=message)

    assert verified["MacValid"] is True
    assert made["Mac"] == mac


def test_openssl_computes_the_mac_of_imported_material(world, admin):
    key = hmac_key(world, admin, "HMAC_256", Origin="EXTERNAL")
    material = os.urandom(32)
    import_material(world, admin, key["KeyId"], material)

    computed = subprocess.run(
        ["openssl", "dgst", "-sha256", "-mac", "HMAC", "-macopt", f"hexkey:{material.hex()}", "-binary"],
        input=b"order 42 shipped", check=True, capture_output=True,
    ).stdout

    made = ok(world, admin, "GenerateMac", KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"order 42 shipped")
    assert made["Mac"] == computed


@pytest.mark.parametrize("state, words", [("PendingDeletion", "pending deletion"), ("PendingImport", "pending import")])
def test_a_key_pending_deletion_or_import_makes_no_mac(world, admin, state, words):
    key = hmac_key(world, admin, **({"Origin": "EXTERNAL"} if state == "PendingImport" else {}))
    if state == "PendingDeletion":
        ok(world, admin, "ScheduleKeyDeletion", KeyId=key["KeyId"])

    error = fails(world, admin, "GenerateMac", "KMSInvalidStateException", KeyId=key["KeyId"],
                  MacAlgorithm="HMAC_SHA_256", Message=b"m")

    assert error.message == f"{key['Arn']} is {words}."

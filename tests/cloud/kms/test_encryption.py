"""Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateRandom."""
import json

import pytest
from ..factories import call, fails, make_key, ok

from kmslab.cloud import calls
from kmslab.cloud.kms import ciphertext
from kmslab.cloud.kms.cryptography import KEY_GONE

CONTEXT = {"tenant": "acme", "purpose": "payroll"}


@pytest.fixture
def key(world, admin):
    return make_key(world, admin)


def test_alice_encrypts_and_decrypts_with_an_encryption_context(world, admin, key):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"salary: 1", EncryptionContext=CONTEXT)

    # The order of the pairs does not matter; their content does.
    reordered = dict(reversed(list(CONTEXT.items())))
    plain = ok(world, admin, "Decrypt", CiphertextBlob=blob["CiphertextBlob"], EncryptionContext=reordered)

    assert blob["KeyId"] == key["Arn"] and blob["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert plain == {
        "KeyId": key["Arn"],
        "Plaintext": b"salary: 1",
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "KeyMaterialId": key["CurrentKeyMaterialId"],
    }


@pytest.mark.parametrize(
    "context",
    [
        None,
        {"tenant": "acme"},
        {**CONTEXT, "extra": "pair"},
        {"tenant": "ACME", "purpose": "payroll"},
        {"tenantacme": "", "purpose": "payroll"},
    ],
    ids=["missing", "one pair short", "extra pair", "case differs", "pairs run together"],
)
def test_decrypt_with_any_other_context_is_an_invalid_ciphertext(world, admin, key, context):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"secret", EncryptionContext=CONTEXT)["CiphertextBlob"]
    request = {"CiphertextBlob": blob}
    if context is not None:
        request["EncryptionContext"] = context

    error = fails(world, admin, "Decrypt", **request)

    assert (error.code, error.message) == ("InvalidCiphertextException", "")


def test_changing_any_byte_of_the_ciphertext_makes_it_invalid(world, admin, key):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"tamper with me")["CiphertextBlob"]

    for position in range(len(blob)):
        forged = bytearray(blob)
        forged[position] ^= 0x01
        error = fails(world, admin, "Decrypt", CiphertextBlob=bytes(forged))
        assert error.code == "InvalidCiphertextException", position


def test_a_truncated_ciphertext_is_invalid(world, admin, key):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    assert fails(world, admin, "Decrypt", CiphertextBlob=blob[: ciphertext.OVERHEAD - 1]).code == "InvalidCiphertextException"


def test_decrypt_needs_a_ciphertext(world, admin):
    error = fails(world, admin, "Decrypt")

    assert (error.code, error.message) == (
        "ValidationException",
        "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
    )


@pytest.mark.parametrize("form", ["key id", "key ARN", "alias name", "alias ARN"])
def test_decrypt_accepts_the_key_that_made_the_ciphertext_by_any_name(world, admin, key, form):
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])
    names = {
        "key id": key["KeyId"],
        "key ARN": key["Arn"],
        "alias name": "alias/payroll",
        "alias ARN": "arn:aws:kms:us-east-1:111122223333:alias/payroll",
    }
    blob = ok(world, admin, "Encrypt", KeyId=names[form], Plaintext=b"x")["CiphertextBlob"]

    assert ok(world, admin, "Decrypt", CiphertextBlob=blob, KeyId=names[form])["Plaintext"] == b"x"


def test_decrypt_naming_another_key_is_an_incorrect_key(world, admin, key):
    other = make_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    error = fails(world, admin, "Decrypt", CiphertextBlob=blob, KeyId=other["KeyId"])

    assert (error.code, error.message) == (
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.",
    )


@pytest.mark.parametrize(
    "size, constraint", [(0, "greater than or equal to 1"), (4097, "less than or equal to 4096")]
)
def test_encrypt_takes_1_to_4096_bytes(world, admin, key, size, constraint):
    error = fails(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x" * size)

    assert (error.code, error.message) == (
        "ValidationException",
        f"1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length {constraint}",
    )


def test_encrypt_takes_4096_bytes(world, admin, key):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x" * 4096)["CiphertextBlob"]

    assert len(blob) == 4096 + ciphertext.OVERHEAD


def test_a_key_whose_usage_is_not_encryption_refuses_to_encrypt(world, admin, key):
    world.doc["kms"]["keys"][key["KeyId"]]["KeyMetadata"]["KeyUsage"] = "SIGN_VERIFY"

    error = fails(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")

    assert (error.code, error.message) == (
        "InvalidKeyUsageException",
        f"{key['Arn']} key usage is SIGN_VERIFY which is not valid for Encrypt.",
    )


ALGORITHM_FIELDS = [
    ("Encrypt", "EncryptionAlgorithm", lambda key, blob: {"KeyId": key, "Plaintext": b"x"}),
    ("Decrypt", "EncryptionAlgorithm", lambda key, blob: {"CiphertextBlob": blob}),
    ("ReEncrypt", "SourceEncryptionAlgorithm", lambda key, blob: {"CiphertextBlob": blob, "DestinationKeyId": key}),
    ("ReEncrypt", "DestinationEncryptionAlgorithm", lambda key, blob: {"CiphertextBlob": blob, "DestinationKeyId": key}),
]


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"])
@pytest.mark.parametrize("operation, field, request_for", ALGORITHM_FIELDS, ids=[f for _, f, _ in ALGORITHM_FIELDS])
def test_a_symmetric_key_refuses_any_algorithm_but_symmetric_default(world, admin, key, operation, field, request_for, algorithm):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    request = request_for(key["KeyId"], blob)
    before = world.rows()

    outcome = call(world, admin, operation, **request, **{field: algorithm})

    assert (outcome.error.code, outcome.error.message) == (
        "InvalidKeyUsageException",
        f"Algorithm {algorithm} is incompatible with key spec SYMMETRIC_DEFAULT.",
    )
    assert outcome.record["errorCode"] == "InvalidKeyUsageException"
    assert world.rows() == before
    ok(world, admin, operation, **request, **{field: "SYMMETRIC_DEFAULT"})


def test_cloudtrail_logs_an_encrypt_without_its_plaintext(world, admin, key):
    outcome = call(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"do not log me", EncryptionContext=CONTEXT)
    record = outcome.record

    assert record["requestParameters"] == {"keyId": key["KeyId"], "encryptionContext": CONTEXT}
    assert record["responseElements"] is None
    assert record["additionalEventData"] == {"keyMaterialId": key["CurrentKeyMaterialId"]}
    assert record["readOnly"] is True
    assert record["resources"] == [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": key["Arn"]}]
    assert "do not log me" not in str(record)


def test_cloudtrail_logs_the_algorithm_of_every_decrypt(world, admin, key):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    record = call(world, admin, "Decrypt", CiphertextBlob=blob).record

    assert record["requestParameters"] == {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}


def test_dry_run_checks_everything_and_encrypts_nothing(world, admin, key):
    error = fails(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", DryRun=True)

    assert (error.code, error.message) == (
        "DryRunOperationException",
        "The request would have succeeded, but the DryRun option is set.",
    )


def test_reencrypt_moves_a_ciphertext_to_another_key_and_context(world, admin, key):
    destination = make_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"move me", EncryptionContext=CONTEXT)["CiphertextBlob"]

    outcome = call(
        world,
        admin,
        "ReEncrypt",
        CiphertextBlob=blob,
        SourceEncryptionContext=CONTEXT,
        DestinationKeyId=destination["KeyId"],
        DestinationEncryptionContext={"tenant": "globex"},
    )
    moved = outcome.response

    assert moved["SourceKeyId"] == key["Arn"] and moved["KeyId"] == destination["Arn"]
    assert moved["SourceKeyMaterialId"] == key["CurrentKeyMaterialId"]
    assert moved["DestinationKeyMaterialId"] == destination["CurrentKeyMaterialId"]
    assert (moved["SourceEncryptionAlgorithm"], moved["DestinationEncryptionAlgorithm"]) == ("SYMMETRIC_DEFAULT",) * 2
    assert [r["ARN"] for r in outcome.record["resources"]] == [key["Arn"], destination["Arn"]]
    assert [e["action"] for e in outcome.explanations] == ["kms:ReEncryptFrom", "kms:ReEncryptTo"]
    plain = ok(world, admin, "Decrypt", CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"tenant": "globex"})
    assert (plain["KeyId"], plain["Plaintext"]) == (destination["Arn"], b"move me")


def test_reencrypt_needs_the_source_context(world, admin, key):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext=CONTEXT)["CiphertextBlob"]

    error = fails(world, admin, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=key["KeyId"])

    assert error.code == "InvalidCiphertextException"


def test_reencrypt_naming_another_source_key_is_an_incorrect_key(world, admin, key):
    other = make_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    error = fails(world, admin, "ReEncrypt", CiphertextBlob=blob, SourceKeyId=other["KeyId"], DestinationKeyId=other["KeyId"])

    assert error.code == "IncorrectKeyException"


@pytest.mark.parametrize("request_, size", [({"KeySpec": "AES_128"}, 16), ({"KeySpec": "AES_256"}, 32), ({"NumberOfBytes": 64}, 64)])
def test_generate_data_key_returns_a_data_key_and_its_encrypted_copy(world, admin, key, request_, size):
    data_key = ok(world, admin, "GenerateDataKey", KeyId=key["KeyId"], EncryptionContext=CONTEXT, **request_)

    assert len(data_key["Plaintext"]) == size
    assert data_key["KeyId"] == key["Arn"] and data_key["KeyMaterialId"] == key["CurrentKeyMaterialId"]
    decrypted = ok(world, admin, "Decrypt", CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext=CONTEXT)
    assert decrypted["Plaintext"] == data_key["Plaintext"]


def test_generate_data_key_never_logs_the_data_key(world, admin, key):
    outcome = call(world, admin, "GenerateDataKey", KeyId=key["KeyId"], KeySpec="AES_256")

    assert outcome.record["responseElements"] is None
    assert outcome.record["requestParameters"] == {"keyId": key["KeyId"], "keySpec": "AES_256"}


@pytest.mark.parametrize("operation", ["GenerateDataKey", "GenerateDataKeyWithoutPlaintext"])
@pytest.mark.parametrize("request_", [{}, {"KeySpec": "AES_256", "NumberOfBytes": 32}], ids=["neither", "both"])
def test_a_data_key_takes_exactly_one_of_key_spec_and_number_of_bytes(world, admin, key, operation, request_):
    error = fails(world, admin, operation, KeyId=key["KeyId"], **request_)

    assert (error.code, error.message) == ("ValidationException", "Please specify either number of bytes or key spec.")


def test_generate_data_key_without_plaintext_returns_only_the_encrypted_copy(world, admin, key):
    data_key = ok(world, admin, "GenerateDataKeyWithoutPlaintext", KeyId=key["KeyId"], KeySpec="AES_128")

    assert set(data_key) == {"CiphertextBlob", "KeyId", "KeyMaterialId"}
    assert len(ok(world, admin, "Decrypt", CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"]) == 16


@pytest.mark.parametrize("count", [1, 1024])
def test_generate_random_returns_1_to_1024_random_bytes(world, admin, count):
    random = ok(world, admin, "GenerateRandom", NumberOfBytes=count)["Plaintext"]

    assert len(random) == count


@pytest.mark.parametrize(
    "request_, message",
    [
        ({"NumberOfBytes": 0}, "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        ({"NumberOfBytes": 1025}, "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"),
        ({}, "NumberOfBytes is required."),
    ],
)
def test_generate_random_refuses_other_sizes(world, admin, request_, message):
    error = fails(world, admin, "GenerateRandom", **request_)

    assert (error.code, error.message) == ("ValidationException", message)


def test_a_ciphertext_decrypted_in_another_region_names_a_key_that_is_not_there(world, admin, key):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    error = calls.call(world, admin, "kms", "Decrypt", {"CiphertextBlob": blob}, region="eu-west-1").error

    assert (error.code, error.message) == ("AccessDeniedException", KEY_GONE)


def denied_through(action, alias):
    """A key policy that allows the account everything but `action` when a request names the key by `alias`."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*",
             "Condition": {"StringEquals": {"kms:RequestAlias": alias}}},
        ],
    })


def test_reencrypt_authorizes_each_key_with_the_alias_that_named_it(world, admin, key):
    ok(world, admin, "CreateAlias", AliasName="alias/source", TargetKeyId=key["KeyId"])
    ok(world, admin, "PutKeyPolicy", KeyId=key["KeyId"], Policy=denied_through("kms:ReEncryptFrom", "alias/source"))
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    # The alias names only the destination here, so kms:ReEncryptFrom sees none.
    allowed = call(world, admin, "ReEncrypt", CiphertextBlob=blob, SourceKeyId=key["KeyId"], DestinationKeyId="alias/source")
    refused = call(world, admin, "ReEncrypt", CiphertextBlob=blob, SourceKeyId="alias/source", DestinationKeyId=key["KeyId"])

    assert allowed.error is None
    assert (refused.error.code, refused.explanations[0]["action"]) == ("AccessDeniedException", "kms:ReEncryptFrom")


def test_decrypt_is_authorized_with_the_alias_its_key_id_used(world, admin, key):
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])
    ok(world, admin, "PutKeyPolicy", KeyId=key["KeyId"], Policy=denied_through("kms:Decrypt", "alias/payroll"))
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    assert call(world, admin, "Decrypt", CiphertextBlob=blob).error is None
    refused = call(world, admin, "Decrypt", CiphertextBlob=blob, KeyId="alias/payroll")
    assert refused.error.code == "AccessDeniedException"
    assert refused.explanations[0]["decision"] == "ExplicitDeny"


# A made-up attestation document: a sandbox has no Nitro root of trust, so every document is one.
RECIPIENT = {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"\x84not signed by Nitro"}
RECIPIENT_CALLS = [
    ("Decrypt", lambda key, blob: {"CiphertextBlob": blob}),
    ("GenerateDataKey", lambda key, blob: {"KeyId": key, "KeySpec": "AES_256"}),
    ("GenerateDataKeyPair", lambda key, blob: {"KeyId": key, "KeyPairSpec": "ECC_NIST_P256"}),
    ("GenerateRandom", lambda key, blob: {"NumberOfBytes": 32}),
]


@pytest.mark.parametrize("operation, request_for", RECIPIENT_CALLS, ids=[name for name, _ in RECIPIENT_CALLS])
def test_an_attestation_document_the_sandbox_cannot_verify_is_refused(world, admin, key, operation, request_for):
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    request = request_for(key["KeyId"], blob)

    error = fails(world, admin, operation, **request, Recipient=RECIPIENT)

    assert (error.code, error.message) == ("ValidationException", "The attestation document in the Recipient parameter is not valid.")
    ok(world, admin, operation, **request)  # the same call without the Recipient succeeds

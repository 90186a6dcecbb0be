"""AWS's key-state table (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html):
what each operation answers for a key in each state, and that a refused call changes nothing."""
import pytest
from ..factories import call, key_in_state

from kmslab.cloud.kms.lifecycle import default_policy

OK = None
DISABLED = ("DisabledException", "{arn} is disabled.")
PENDING_DELETION = ("KMSInvalidStateException", "{arn} is pending deletion.")
PENDING_IMPORT = ("KMSInvalidStateException", "{arn} is pending import.")
NOT_PENDING_DELETION = ("KMSInvalidStateException", "{arn} is not pending deletion.")
EXTERNAL_ORIGIN = ("UnsupportedOperationException", "{arn} origin is EXTERNAL which is not valid for this operation.")
KMS_ORIGIN = ("UnsupportedOperationException", "{arn} origin is AWS_KMS which is not valid for this operation.")

STATES = ("Enabled", "Disabled", "PendingDeletion", "PendingImport")
CRYPTOGRAPHIC = dict(Enabled=OK, Disabled=DISABLED, PendingDeletion=PENDING_DELETION, PendingImport=PENDING_IMPORT)
ALWAYS = dict(Enabled=OK, Disabled=OK, PendingDeletion=OK, PendingImport=OK)
NOT_WHILE_DELETING = dict(Enabled=OK, Disabled=OK, PendingDeletion=PENDING_DELETION, PendingImport=OK)
ENABLE_OR_DISABLE = dict(Enabled=OK, Disabled=OK, PendingDeletion=PENDING_DELETION, PendingImport=PENDING_IMPORT)
CHANGE_ROTATION = dict(Enabled=OK, Disabled=DISABLED, PendingDeletion=PENDING_DELETION, PendingImport=EXTERNAL_ORIGIN)
READ_ROTATION = dict(Enabled=OK, Disabled=OK, PendingDeletion=OK, PendingImport=EXTERNAL_ORIGIN)
CANCEL = dict(Enabled=NOT_PENDING_DELETION, Disabled=NOT_PENDING_DELETION, PendingDeletion=OK, PendingImport=NOT_PENDING_DELETION)
IMPORT = dict(Enabled=KMS_ORIGIN, Disabled=KMS_ORIGIN, PendingDeletion=KMS_ORIGIN, PendingImport=OK)

# operation, request(key id, ciphertext made under the key, account), answers by state
TABLE = [
    ("Encrypt", lambda k, blob, acct: {"KeyId": k, "Plaintext": b"data"}, CRYPTOGRAPHIC),
    ("Decrypt", lambda k, blob, acct: {"CiphertextBlob": blob}, CRYPTOGRAPHIC),
    ("ReEncrypt", lambda k, blob, acct: {"CiphertextBlob": blob, "DestinationKeyId": k}, CRYPTOGRAPHIC),
    ("GenerateDataKey", lambda k, blob, acct: {"KeyId": k, "KeySpec": "AES_256"}, CRYPTOGRAPHIC),
    ("GenerateDataKeyWithoutPlaintext", lambda k, blob, acct: {"KeyId": k, "NumberOfBytes": 16}, CRYPTOGRAPHIC),
    ("DescribeKey", lambda k, blob, acct: {"KeyId": k}, ALWAYS),
    ("GetKeyPolicy", lambda k, blob, acct: {"KeyId": k}, ALWAYS),
    ("PutKeyPolicy", lambda k, blob, acct: {"KeyId": k, "Policy": default_policy(acct)}, ALWAYS),
    ("ListKeyPolicies", lambda k, blob, acct: {"KeyId": k}, ALWAYS),
    ("ListResourceTags", lambda k, blob, acct: {"KeyId": k}, ALWAYS),
    ("ListAliases", lambda k, blob, acct: {"KeyId": k}, ALWAYS),
    ("UpdateKeyDescription", lambda k, blob, acct: {"KeyId": k, "Description": "new"}, NOT_WHILE_DELETING),
    ("TagResource", lambda k, blob, acct: {"KeyId": k, "Tags": [{"TagKey": "team", "TagValue": "red"}]}, NOT_WHILE_DELETING),
    ("UntagResource", lambda k, blob, acct: {"KeyId": k, "TagKeys": ["team"]}, NOT_WHILE_DELETING),
    ("CreateAlias", lambda k, blob, acct: {"AliasName": "alias/state-table", "TargetKeyId": k}, NOT_WHILE_DELETING),
    ("ScheduleKeyDeletion", lambda k, blob, acct: {"KeyId": k, "PendingWindowInDays": 7}, NOT_WHILE_DELETING),
    ("CancelKeyDeletion", lambda k, blob, acct: {"KeyId": k}, CANCEL),
    ("EnableKey", lambda k, blob, acct: {"KeyId": k}, ENABLE_OR_DISABLE),
    ("DisableKey", lambda k, blob, acct: {"KeyId": k}, ENABLE_OR_DISABLE),
    ("EnableKeyRotation", lambda k, blob, acct: {"KeyId": k}, CHANGE_ROTATION),
    ("DisableKeyRotation", lambda k, blob, acct: {"KeyId": k}, CHANGE_ROTATION),
    ("RotateKeyOnDemand", lambda k, blob, acct: {"KeyId": k}, CHANGE_ROTATION),
    ("GetKeyRotationStatus", lambda k, blob, acct: {"KeyId": k}, READ_ROTATION),
    ("ListKeyRotations", lambda k, blob, acct: {"KeyId": k}, READ_ROTATION),
    (
        "GetParametersForImport",
        lambda k, blob, acct: {"KeyId": k, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
        IMPORT,
    ),
    ("DeleteImportedKeyMaterial", lambda k, blob, acct: {"KeyId": k}, IMPORT),
]

CASES = [
    pytest.param(operation, request, state, answers[state], id=f"{operation}-{state}")
    for operation, request, answers in TABLE
    for state in STATES
]


@pytest.mark.parametrize("operation, request_for, state, expected", CASES)
def test_each_operation_answers_as_the_key_state_table_says(world, admin, operation, request_for, state, expected):
    key_id, blob = key_in_state(world, admin, state)
    arn = world.doc["kms"]["keys"][key_id]["KeyMetadata"]["Arn"]
    before = world.rows()

    outcome = call(world, admin, operation, **request_for(key_id, blob, admin.account))

    if expected is OK:
        assert outcome.error is None, (outcome.error.code, outcome.error.message)
    else:
        code, message = expected
        assert (outcome.error.code, outcome.error.message) == (code, message.format(arn=arn))
        assert world.rows() == before, "a refused call must leave the world as it found it"
        assert outcome.record["errorCode"] == code


def test_import_into_an_external_key_pending_deletion_is_refused(world, admin):
    key_id, _ = key_in_state(world, admin, "PendingImport")
    arn = world.doc["kms"]["keys"][key_id]["KeyMetadata"]["Arn"]
    call(world, admin, "ScheduleKeyDeletion", KeyId=key_id)

    error = call(
        world, admin, "GetParametersForImport", KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_1", WrappingKeySpec="RSA_2048"
    ).error

    assert (error.code, error.message) == ("KMSInvalidStateException", f"{arn} is pending deletion.")


def test_reencrypt_to_a_disabled_destination_is_refused(world, admin):
    _, blob = key_in_state(world, admin, "Enabled")
    destination, _ = key_in_state(world, admin, "Disabled")
    arn = world.doc["kms"]["keys"][destination]["KeyMetadata"]["Arn"]

    error = call(world, admin, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=destination).error

    assert (error.code, error.message) == ("DisabledException", f"{arn} is disabled.")

"""Every KMS operation the core has, through boto3 against the real server: success and error paths."""
import base64
import json
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

pytestmark = pytest.mark.live

MISSING = "arn:aws:kms:us-east-1:111122223333:key/" + str(uuid.UUID(int=0))


@pytest.fixture(scope="module")
def kms(alice):
    return alice("kms")


@pytest.fixture
def key(kms):
    return kms.create_key(Description="for a test")["KeyMetadata"]


def test_create_describe_list_and_describe_again(kms):
    meta = kms.create_key(Description="payments", Tags=[{"TagKey": "team", "TagValue": "pay"}])["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:111122223333:key/{meta['KeyId']}"
    assert kms.describe_key(KeyId=meta["Arn"])["KeyMetadata"]["Description"] == "payments"
    listed = kms.list_keys(Limit=1000)["Keys"]
    assert {"KeyId": meta["KeyId"], "KeyArn": meta["Arn"]} in listed
    kms.update_key_description(KeyId=meta["KeyId"], Description="payments v2")
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["Description"] == "payments v2"


def test_encrypt_decrypt_reencrypt_and_data_keys(kms, key):
    other = kms.create_key()["KeyMetadata"]
    context = {"purpose": "test", "order": "42"}
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"\x00\xffsecret", EncryptionContext=context)["CiphertextBlob"]
    decrypted = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert decrypted["Plaintext"] == b"\x00\xffsecret" and decrypted["KeyId"] == key["Arn"]
    moved = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=context, DestinationKeyId=other["KeyId"])
    assert moved["KeyId"] == other["Arn"] and moved["SourceKeyId"] == key["Arn"]
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"\x00\xffsecret"
    data_key = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
    assert len(data_key["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    sealed = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], NumberOfBytes=16)
    assert "Plaintext" not in sealed and len(kms.decrypt(CiphertextBlob=sealed["CiphertextBlob"])["Plaintext"]) == 16
    assert len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024


def test_crypto_errors_map_to_their_exception_classes(kms, key):
    other = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"a": "b"})["CiphertextBlob"]
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "c"})
    with pytest.raises(kms.exceptions.IncorrectKeyException):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"}, KeyId=other["KeyId"])
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.re_encrypt(CiphertextBlob=blob[:-1] + bytes([blob[-1] ^ 1]), SourceEncryptionContext={"a": "b"},
                       DestinationKeyId=other["KeyId"])
    with pytest.raises(kms.exceptions.ClientError) as raised:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x" * 4097)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(kms.exceptions.ClientError) as raised:
        kms.generate_random(NumberOfBytes=1025)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(kms.exceptions.ClientError) as raised:
        kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256", NumberOfBytes=32)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(kms.exceptions.ClientError) as raised:
        kms.generate_data_key_without_plaintext(KeyId=key["KeyId"])
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_disable_enable_and_the_states_they_refuse(kms, key):
    kms.disable_key(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(kms.exceptions.DisabledException) as raised:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert raised.value.response["Error"]["Message"] == f"{key['Arn']} is disabled."
    kms.enable_key(KeyId=key["KeyId"])
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")


def test_schedule_and_cancel_deletion(kms, key):
    scheduled = kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion" and scheduled["PendingWindowInDays"] == 7
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.schedule_key_deletion(KeyId=key["KeyId"])
    assert kms.cancel_key_deletion(KeyId=key["KeyId"])["KeyId"] == key["Arn"]
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.cancel_key_deletion(KeyId=key["KeyId"])


def test_aliases(kms, key):
    other = kms.create_key()["KeyMetadata"]
    name = f"alias/app-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key["KeyId"]
    with pytest.raises(kms.exceptions.AlreadyExistsException):
        kms.create_alias(AliasName=name, TargetKeyId=other["KeyId"])
    kms.update_alias(AliasName=name, TargetKeyId=other["KeyId"])
    aliases = kms.list_aliases(KeyId=other["KeyId"])["Aliases"]
    assert [a["AliasName"] for a in aliases] == [name]
    assert name in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    kms.delete_alias(AliasName=name)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.delete_alias(AliasName=name)
    with pytest.raises(kms.exceptions.ClientError) as raised:
        kms.create_alias(AliasName="no-prefix", TargetKeyId=key["KeyId"])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.update_alias(AliasName="alias/never-made", TargetKeyId=key["KeyId"])


def test_key_policies(kms, key):
    assert kms.list_key_policies(KeyId=key["KeyId"])["PolicyNames"] == ["default"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    policy["Statement"].append({"Sid": "Deny bob", "Effect": "Deny",
                                "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                                "Action": "kms:*", "Resource": "*"})
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy))
    assert "Deny bob" in kms.get_key_policy(KeyId=key["KeyId"])["Policy"]
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException):
        kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy="{not json")


def test_rotation(alice, kms, key):
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    kms.rotate_key_on_demand(KeyId=key["KeyId"])
    rotations = kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"]
    kms.disable_key_rotation(KeyId=key["KeyId"])
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
    with pytest.raises(kms.exceptions.ClientError) as raised:
        alice("kms", validate=False).enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=30)
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_tags(kms, key):
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "env", "TagValue": "test"}])
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == [{"TagKey": "env", "TagValue": "test"}]
    kms.untag_resource(KeyId=key["KeyId"], TagKeys=["env"])
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == []
    with pytest.raises(kms.exceptions.TagException):
        kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])


def test_imported_key_material(kms):
    meta = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport"
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")
    params = kms.get_parameters_for_import(KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    public_key = serialization.load_der_public_key(params["PublicKey"])
    material = bytes(range(32))
    wrapped = public_key.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                        algorithm=hashes.SHA256(), label=None))
    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        kms.import_key_material(KeyId=meta["KeyId"], ImportToken=params["ImportToken"],
                                EncryptedKeyMaterial=public_key.encrypt(b"short", padding.OAEP(
                                    mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)),
                                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    kms.import_key_material(KeyId=meta["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"imported")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported"
    kms.delete_imported_key_material(KeyId=meta["KeyId"])
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport"


def test_bob_cannot_use_alices_key(alice, bob, key):
    with pytest.raises(bob("kms").exceptions.ClientError) as raised:
        bob("kms").encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


def test_grants(alice, bob, kms, key):
    alice_arn, bob_arn = "arn:aws:iam::111122223333:user/admin", "arn:aws:iam::444455556666:user/admin"
    grant = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob_arn, Operations=["Encrypt", "Decrypt"],
                             RetiringPrincipal=alice_arn, Name="bob-encrypts")
    blob = bob("kms").encrypt(KeyId=key["Arn"], Plaintext=b"by grant", GrantTokens=[grant["GrantToken"]])
    assert blob["KeyId"] == key["Arn"]
    listed = kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert [(g["GrantId"], g["GranteePrincipal"], sorted(g["Operations"])) for g in listed] == [
        (grant["GrantId"], bob_arn, ["Decrypt", "Encrypt"])]
    retirable = kms.list_retirable_grants(RetiringPrincipal=alice_arn)["Grants"]
    assert grant["GrantId"] in [g["GrantId"] for g in retirable]
    kms.retire_grant(KeyId=key["Arn"], GrantId=grant["GrantId"])
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.retire_grant(KeyId=key["Arn"], GrantId=grant["GrantId"])
    second = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob_arn, Operations=["Decrypt"])
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=second["GrantId"])
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []
    with pytest.raises(kms.exceptions.InvalidGrantIdException):
        kms.revoke_grant(KeyId=key["KeyId"], GrantId="not-a-grant-id")
    with pytest.raises(kms.exceptions.InvalidGrantTokenException):
        kms.retire_grant(GrantToken="not-a-grant-token")
    with pytest.raises(kms.exceptions.ClientError) as raised:
        kms.list_retirable_grants(RetiringPrincipal="arn:aws:iam::444455556666:user/admin")
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


OPERATIONS_ON_A_KEY = [
    ("describe_key", {}),
    ("update_key_description", {"Description": "x"}),
    ("enable_key", {}),
    ("disable_key", {}),
    ("schedule_key_deletion", {}),
    ("cancel_key_deletion", {}),
    ("encrypt", {"Plaintext": b"x"}),
    ("generate_data_key", {"KeySpec": "AES_256"}),
    ("generate_data_key_without_plaintext", {"KeySpec": "AES_256"}),
    ("get_key_policy", {"PolicyName": "default"}),
    ("put_key_policy", {"PolicyName": "default", "Policy": '{"Version":"2012-10-17","Statement":[]}'}),
    ("list_key_policies", {}),
    ("enable_key_rotation", {}),
    ("disable_key_rotation", {}),
    ("get_key_rotation_status", {}),
    ("rotate_key_on_demand", {}),
    ("list_key_rotations", {}),
    ("tag_resource", {"Tags": [{"TagKey": "a", "TagValue": "b"}]}),
    ("untag_resource", {"TagKeys": ["a"]}),
    ("list_resource_tags", {}),
    ("get_parameters_for_import", {"WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}),
    ("import_key_material", {"ImportToken": b"t", "EncryptedKeyMaterial": b"m",
                             "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
    ("delete_imported_key_material", {}),
    ("create_alias", {"AliasName": "alias/for-a-missing-key"}),
    ("list_aliases", {}),
    ("create_grant", {"GranteePrincipal": "arn:aws:iam::111122223333:root", "Operations": ["Decrypt"]}),
    ("list_grants", {}),
    ("revoke_grant", {"GrantId": "0" * 64}),
]


@pytest.mark.parametrize("operation, params", OPERATIONS_ON_A_KEY, ids=[op for op, _ in OPERATIONS_ON_A_KEY])
def test_every_operation_on_a_key_that_does_not_exist_is_not_found(kms, operation, params):
    key_field = "TargetKeyId" if operation == "create_alias" else "KeyId"
    with pytest.raises(kms.exceptions.NotFoundException) as raised:
        getattr(kms, operation)(**{key_field: MISSING, **params})
    assert raised.value.response["Error"]["Message"] == f"Key '{MISSING}' does not exist"


def test_decrypting_garbage_is_an_invalid_ciphertext(kms):
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=b"\x01" * 80)


def test_rsa_encryption_and_data_key_pairs_on_the_wire(kms, key):
    rsa_key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    public_key = serialization.load_der_public_key(kms.get_public_key(KeyId=rsa_key["KeyId"])["PublicKey"])
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    outside = public_key.encrypt(b"made outside", oaep)
    decrypted = kms.decrypt(CiphertextBlob=outside, KeyId=rsa_key["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert (decrypted["Plaintext"], decrypted["EncryptionAlgorithm"]) == (b"made outside", "RSAES_OAEP_SHA_256")
    assert "KeyMaterialId" not in decrypted
    encrypted = kms.encrypt(KeyId=rsa_key["KeyId"], Plaintext=b"x" * 214, EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert len(encrypted["CiphertextBlob"]) == 256 and encrypted["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_1"
    with pytest.raises(kms.exceptions.ClientError, match="cannot encrypt data larger than 190 bytes"):
        kms.encrypt(KeyId=rsa_key["KeyId"], Plaintext=b"x" * 191, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    pair = kms.generate_data_key_pair(KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256", EncryptionContext={"a": "b"})
    private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], password=None)
    assert private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == pair["PublicKey"]
    opened = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext={"a": "b"})["Plaintext"]
    assert opened == pair["PrivateKeyPlaintext"]
    without = kms.generate_data_key_pair_without_plaintext(KeyId=key["KeyId"], KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in without and without["KeyPairSpec"] == "RSA_2048"


def test_custom_key_stores_answer_as_for_an_account_with_none(kms):
    assert kms.describe_custom_key_stores()["CustomKeyStores"] == []
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.connect_custom_key_store(CustomKeyStoreId="cks-1234567890abcdef0")
    with pytest.raises(kms.exceptions.CloudHsmClusterNotFoundException):
        kms.create_custom_key_store(CustomKeyStoreName="hsm", CloudHsmClusterId="cluster-234abcdefgh",
                                    TrustAnchorCertificate="certificate", KeyStorePassword="kmsPswd1")
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.create_key(CustomKeyStoreId="cks-1234567890abcdef0", Origin="AWS_CLOUDHSM")


def test_get_key_last_usage_and_dry_run_on_the_wire(kms, key):
    fresh = kms.get_key_last_usage(KeyId=key["Arn"])
    assert fresh["KeyId"] == key["KeyId"] and fresh["KeyLastUsage"] == {}
    assert fresh["TrackingStartDate"] == fresh["KeyCreationDate"] == key["CreationDate"]
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", DryRun=True)
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    used = kms.get_key_last_usage(KeyId=key["KeyId"])["KeyLastUsage"]
    # The time of its CloudTrail record, whose eventTime is to the second.
    assert used["Operation"] == "Encrypt" and used["Timestamp"] >= key["CreationDate"].replace(microsecond=0)
    assert set(used) == {"Operation", "Timestamp", "CloudTrailEventId", "KmsRequestId"}


def test_sign_and_verify_on_the_wire(kms):
    """Sign's Signature travels base64-encoded in the JSON body, beside KeyId (the ARN) and
    SigningAlgorithm; the signature verifies outside with GetPublicKey's key; a bad one is
    KMSInvalidSignatureException."""
    meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    bodies = []
    kms.meta.events.register("after-call.kms.Sign", lambda http_response, **_: bodies.append(http_response.content))
    try:
        signed = kms.sign(KeyId=meta["KeyId"], Message=b"release 1.0", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
    finally:
        kms.meta.events.unregister("after-call.kms.Sign")
    wire = json.loads(bodies[0])
    assert set(wire) == {"KeyId", "Signature", "SigningAlgorithm"} and wire["KeyId"] == meta["Arn"]
    assert base64.b64decode(wire["Signature"]) == signed["Signature"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"])
    public.verify(signed["Signature"], b"release 1.0", ec.ECDSA(hashes.SHA256()))
    verified = kms.verify(KeyId=meta["KeyId"], Message=b"release 1.0", Signature=signed["Signature"],
                          SigningAlgorithm="ECDSA_SHA_256")
    assert (verified["KeyId"], verified["SignatureValid"], verified["SigningAlgorithm"]) == (meta["Arn"], True, "ECDSA_SHA_256")
    with pytest.raises(kms.exceptions.KMSInvalidSignatureException):
        kms.verify(KeyId=meta["KeyId"], Message=b"release 1.1", Signature=signed["Signature"], SigningAlgorithm="ECDSA_SHA_256")

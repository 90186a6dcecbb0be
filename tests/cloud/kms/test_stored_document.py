"""The stored world holds no KMS secret in the clear, and reloads into a working world."""
import base64
import os

from ..factories import import_material, make_key, ok

from kmslab.cloud.world import World


def spellings(secret):
    """Raw bytes (as the JSON text would carry them), hex and base64 of a secret."""
    return [secret.decode("latin-1"), secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode()]


def test_the_stored_document_holds_no_key_material_in_the_clear(world, admin):
    data_key = ok(world, admin, "GenerateDataKey", KeyId=make_key(world, admin)["KeyId"], KeySpec="AES_256")["Plaintext"]
    imported = os.urandom(32)
    import_material(world, admin, make_key(world, admin, Origin="EXTERNAL")["KeyId"], imported)
    rotated = make_key(world, admin)["KeyId"]
    ok(world, admin, "RotateKeyOnDemand", KeyId=rotated)
    material = [world.unseal("kms-key-material", m["Sealed"]) for m in world.doc["kms"]["keys"][rotated]["Materials"]]

    document = "\n".join(text for _, _, text in world.rows())

    for secret in [data_key, imported, *material]:
        for spelling in spellings(secret):
            assert spelling not in document


def test_import_tokens_and_wrapping_keys_are_sealed(world, admin):
    key_id = make_key(world, admin, Origin="EXTERNAL")["KeyId"]
    params = ok(world, admin, "GetParametersForImport", KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    [entry] = world.doc["kms"]["import_tokens"].values()
    private_key = world.unseal("kms-import-wrapping-key", entry["PrivateKey"])

    document = "\n".join(text for _, _, text in world.rows())

    for secret in (params["ImportToken"], private_key):
        for spelling in spellings(secret):
            assert spelling not in document


def test_a_world_reloaded_from_its_document_decrypts_what_it_encrypted(world, admin, master_key, clock):
    key_id = make_key(world, admin)["KeyId"]
    blob = ok(world, admin, "Encrypt", KeyId=key_id, Plaintext=b"survives a restart")["CiphertextBlob"]

    reloaded = World.from_rows(world.rows(), master_key, clock)

    assert ok(reloaded, admin, "Decrypt", CiphertextBlob=blob)["Plaintext"] == b"survives a restart"

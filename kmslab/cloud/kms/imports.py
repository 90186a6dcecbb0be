"""Imported key material: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial
(importing-keys).

The wrapping is real: GetParametersForImport makes an RSA key pair, the
learner wraps the material under its public key (RSA-OAEP, or RSA-OAEP + AES
key wrap with padding for the RSA_AES_KEY_WRAP algorithms), and
ImportKeyMaterial unwraps it with the private key. The material is what
importing-keys-conceptual requires for the key's spec: 32 bytes for a symmetric
key, 224 (256, 384, 512) to 1024 bits for an HMAC key, and for RSA and ECC keys
the private key in PKCS #8, which is sealed as specs.py seals a private key. The private key and the
import token are sealed in the world; a token is good for 24 hours of sandbox
time. An import token record in `world.doc["kms"]["import_tokens"][token id]`:
{"KeyId", "WrappingAlgorithm", "WrappingKeySpec", "ParametersValidTo", "Token" (sealed), "PrivateKey" (sealed)}.
"""
import hashlib
import hmac
import os
import uuid

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

from ..errors import (
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidCiphertextException,
    InvalidImportTokenException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from ..operations import operation
from . import specs
from .access import key_for
from .keys import (
    DAY,
    MATERIAL_PURPOSE,
    forget_imported_material,
    note_due,
    require_not,
    require_origin,
)

TOKEN_PURPOSE = "kms-import-token"
WRAPPING_KEY_PURPOSE = "kms-import-wrapping-key"
TOKEN_LIFETIME = DAY  # GetParametersForImport: "Each public key and import token set is valid for 24 hours."
MAX_VALID_TO = 365 * DAY  # ImportKeyMaterial: ValidTo at most 365 days from the request date
WRAPPING_KEY_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
WRAPPING_HASHES = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
    "RSA_AES_KEY_WRAP_SHA_1": hashes.SHA1,
    "RSA_AES_KEY_WRAP_SHA_256": hashes.SHA256,
}
MAX_HMAC_BYTES = 128  # importing-keys-conceptual: "The maximum key length is 1024-bits."


def new_wrapping_key(bits):
    """A fresh RSA key pair for one GetParametersForImport (each public key and import token
    set is its own). The KMS tests swap this for a pool of keys made once per test session
    (tests/cloud/kms/conftest.py): generating RSA keys was most of their running time."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _import_key(ctx, request, action, conditions=None):
    key = key_for(ctx, request["KeyId"], action, conditions)
    require_origin(key, "EXTERNAL")
    return key


@operation("kms", "GetParametersForImport", read_only=True)
def get_parameters_for_import(ctx, request):
    algorithm, spec = request["WrappingAlgorithm"], request["WrappingKeySpec"]
    if algorithm not in WRAPPING_HASHES:
        # RSAES_PKCS1_V1_5 is retired (October 2023); SM2PKE is for China Regions only.
        raise ValidationException(f"The wrapping algorithm {algorithm} is not supported.")
    if spec not in WRAPPING_KEY_BITS:
        raise ValidationException(f"The wrapping key spec {spec} is not supported.")
    key = _import_key(
        ctx, request, "kms:GetParametersForImport", {"kms:WrappingAlgorithm": algorithm, "kms:WrappingKeySpec": spec}
    )
    require_not(key, "PendingDeletion")
    require_wrapping_fits(key["KeyMetadata"]["KeySpec"], algorithm, spec)
    private_key = new_wrapping_key(WRAPPING_KEY_BITS[spec])
    token = os.urandom(48)
    valid_to = ctx.time + TOKEN_LIFETIME
    world = ctx.world
    world.doc["kms"]["import_tokens"][token[:16].hex()] = {
        "KeyId": key["KeyMetadata"]["KeyId"],
        "WrappingAlgorithm": algorithm,
        "WrappingKeySpec": spec,
        "ParametersValidTo": valid_to,
        "Token": world.seal(TOKEN_PURPOSE, token),
        "PrivateKey": world.seal(
            WRAPPING_KEY_PURPOSE,
            private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        ),
    }
    public_key = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"KeyId": key["KeyMetadata"]["Arn"], "ImportToken": token, "PublicKey": public_key, "ParametersValidTo": valid_to}


def require_wrapping_fits(key_spec, algorithm, wrapping_key_spec):
    """RSA-OAEP alone wraps only what fits in one RSA block: never an RSA private key, and not
    an ECC_NIST_P521 one under an RSA_2048 wrapping key (GetParametersForImport API reference,
    WrappingAlgorithm and WrappingKeySpec). The wording is kmslab's."""
    if algorithm.startswith("RSAES_OAEP") and (
        key_spec.startswith("RSA_") or (key_spec == "ECC_NIST_P521" and wrapping_key_spec == "RSA_2048")
    ):
        raise ValidationException(
            f"The wrapping algorithm {algorithm} with wrapping key spec {wrapping_key_spec} cannot wrap {key_spec} "
            "key material. Use RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256."
        )


def importable_material(spec, material):
    """The bytes to seal for material imported into a key of `spec`, or IncorrectKeyMaterialException.

    A private key is sealed as its canonical PKCS #8 DER, so the same key imported again in
    another encoding (BER, or without its public key) is recognised as the same material."""
    if specs.is_symmetric(spec):
        if len(material) != 32:
            raise IncorrectKeyMaterialException("Key material for a symmetric encryption KMS key must be 256 bits (32 bytes).")
        return material
    if specs.is_hmac(spec):
        if not specs.HMAC_BYTES[spec] <= len(material) <= MAX_HMAC_BYTES:
            raise IncorrectKeyMaterialException(
                f"Key material for an {spec} KMS key must be {specs.HMAC_BYTES[spec] * 8} to 1024 bits."
            )
        return material
    try:
        private_key = specs.load_private(material) if _is_private_key_info(material) else None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        private_key = None
    if private_key is None:
        raise IncorrectKeyMaterialException(
            f"Key material for a {spec} KMS key must be a private key in PKCS #8 format (DER or BER)."
        )
    if not specs.is_private_key_of(spec, private_key):
        raise IncorrectKeyMaterialException(f"The key material is not a {spec} private key.")
    return specs.private_bytes(private_key)


def _is_private_key_info(der):
    """Whether DER opens as PKCS #8's PrivateKeyInfo (RFC 5208): a SEQUENCE whose version INTEGER
    is followed by the AlgorithmIdentifier SEQUENCE. cryptography also loads the traditional
    encodings (PKCS #1 RSAPrivateKey, SEC1 ECPrivateKey), whose version is followed by an
    INTEGER or an OCTET STRING; importing-keys-conceptual asks for PKCS #8."""

    def contents(at):  # (where the contents of the element at `at` start, their length)
        size = der[at + 1]
        if size < 0x80:
            return at + 2, size
        count = size & 0x7F
        return at + 2 + count, int.from_bytes(der[at + 2 : at + 2 + count], "big")

    try:
        version, _ = contents(0)
        start, length = contents(version)
        return der[0] == 0x30 and der[version] == 0x02 and der[start + length] == 0x30
    except IndexError:
        return False


def _epoch(value):
    """A timestamp as the wire gives it (epoch seconds) or as a Python caller does (datetime)."""
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _expiration(request):
    """(ExpirationModel, ValidTo or None): ValidTo is required exactly when the material expires."""
    model = request.get("ExpirationModel", "KEY_MATERIAL_EXPIRES")
    valid_to = request.get("ValidTo")
    if model == "KEY_MATERIAL_EXPIRES" and valid_to is None:
        raise ValidationException("A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
    if model == "KEY_MATERIAL_DOES_NOT_EXPIRE" and valid_to is not None:
        raise ValidationException("A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
    return model, None if valid_to is None else _epoch(valid_to)


def _token_entry(ctx, key, token):
    entry = ctx.world.doc["kms"]["import_tokens"].get(token[:16].hex())
    if (
        entry is None
        or not hmac.compare_digest(ctx.world.unseal(TOKEN_PURPOSE, entry["Token"]), token)
        or entry["KeyId"] != key["KeyMetadata"]["KeyId"]
    ):
        raise InvalidImportTokenException("The import token is not valid for this KMS key.")
    if entry["ParametersValidTo"] <= ctx.time:
        raise ExpiredImportTokenException(
            "The import token has expired. Use GetParametersForImport to get a new import token and public key."
        )
    return entry


def _unwrap(world, entry, wrapped):
    """The material under a token's wrapping key; InvalidCiphertextException if it was not wrapped with it."""
    private_key = serialization.load_der_private_key(world.unseal(WRAPPING_KEY_PURPOSE, entry["PrivateKey"]), None)
    algorithm = WRAPPING_HASHES[entry["WrappingAlgorithm"]]()
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)
    try:
        if entry["WrappingAlgorithm"].startswith("RSA_AES_KEY_WRAP"):
            # RSA-OAEP-wrapped AES key, then the material wrapped under it (RFC 5649).
            size = private_key.key_size // 8
            aes_key = private_key.decrypt(wrapped[:size], oaep)
            return aes_key_unwrap_with_padding(aes_key, wrapped[size:])
        return private_key.decrypt(wrapped, oaep)
    except (ValueError, InvalidUnwrap):
        raise InvalidCiphertextException("") from None


def material_id_for(key_id, material):
    """KMS derives an imported material's id from the key id and the material (ImportKeyMaterial
    API reference), which is how a re-import is recognised as the same material."""
    return hashlib.sha256(uuid.UUID(key_id).bytes + material).hexdigest()


@operation("kms", "ImportKeyMaterial")
def import_key_material(ctx, request):
    model, valid_to = _expiration(request)
    conditions = {}
    if "ExpirationModel" in request:
        conditions["kms:ExpirationModel"] = model
    if valid_to is not None:
        conditions["kms:ValidTo"] = valid_to
    key = _import_key(ctx, request, "kms:ImportKeyMaterial", conditions)
    require_not(key, "PendingDeletion")
    if valid_to is not None and not ctx.time < valid_to <= ctx.time + MAX_VALID_TO:
        raise ValidationException("The ValidTo date must be in the future and no more than 365 days from now.")
    entry = _token_entry(ctx, key, request["ImportToken"])
    meta = key["KeyMetadata"]
    material = importable_material(meta["KeySpec"], _unwrap(ctx.world, entry, request["EncryptedKeyMaterial"]))
    material_id = material_id_for(meta["KeyId"], material)
    materials = key["Materials"]
    if materials and request.get("ImportType") == "NEW_KEY_MATERIAL":
        raise UnsupportedOperationException("This sandbox imports one key material per KMS key; re-import the same material.")
    if (materials and materials[0]["KeyMaterialId"] != material_id) or request.get("KeyMaterialId", material_id) != material_id:
        raise IncorrectKeyMaterialException(
            "The key material is not the key material that was previously imported into this KMS key."
        )
    sealed = ctx.world.seal(MATERIAL_PURPOSE, material)
    if materials:
        materials[0]["Sealed"] = sealed
    else:
        materials.append({"KeyMaterialId": material_id, "Sealed": sealed, "RotationDate": None, "RotationType": None})
    # DescribeKey API reference: CurrentKeyMaterialId is present for symmetric encryption keys only.
    if specs.is_symmetric(meta["KeySpec"]):
        meta["CurrentKeyMaterialId"] = material_id
    meta["ExpirationModel"] = model
    if valid_to is None:
        meta.pop("ValidTo", None)
    else:
        meta["ValidTo"] = valid_to
        note_due(ctx.world, valid_to)
    if meta["KeyState"] == "PendingImport":
        meta["KeyState"] = "Enabled"
        meta["Enabled"] = True
    return {"KeyId": meta["Arn"], "KeyMaterialId": material_id}


@operation("kms", "DeleteImportedKeyMaterial")
def delete_imported_key_material(ctx, request):
    key = _import_key(ctx, request, "kms:DeleteImportedKeyMaterial")
    meta = key["KeyMetadata"]
    materials = key["Materials"]
    if request.get("KeyMaterialId") and (not materials or materials[0]["KeyMaterialId"] != request["KeyMaterialId"]):
        raise NotFoundException(f"Key material {request['KeyMaterialId']} is not associated with {meta['Arn']}.")
    # On a key pending import this has no effect (key-state table).
    if not materials or materials[0]["Sealed"] is None:
        return {"KeyId": meta["Arn"]}
    forget_imported_material(key)
    return {"KeyId": meta["Arn"], "KeyMaterialId": materials[0]["KeyMaterialId"]}

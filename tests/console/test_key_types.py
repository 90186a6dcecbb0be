"""The console's keys of every type: the create form, the public key download, and the forms a key's
usage calls for (Sign and Verify, GenerateMac and VerifyMac, RSA Encrypt and Decrypt)."""
import base64
import re

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from .personas import codes

from kmslab.sandboxes.models import TrailRecord


def key_id_of(key_page):
    return key_page.rstrip("/").rsplit("/", 1)[1]


def shown(body, element_id):
    return re.search(rf'id="{element_id}">([^<]*)<', body).group(1)


def test_the_create_form_offers_every_key_spec_and_usage(alice):
    page = alice.get(alice.home + "keys/").content.decode()

    for spec in ("SYMMETRIC_DEFAULT", "RSA_4096", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519",
                 "ML_DSA_87", "ML_KEM_1024", "HMAC_512"):
        assert f'value="{spec}"' in page
    for usage in ("ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE"):
        assert f'value="{usage}"' in page


def test_a_pair_aws_refuses_shows_its_error_on_the_form(alice):
    response = alice.post(alice.home + "keys/", {"Origin": "AWS_KMS", "KeySpec": "HMAC_256", "KeyUsage": "SIGN_VERIFY"},
                          htmx=True)

    assert codes(response) == ["ValidationException"]


def test_a_signing_key_offers_sign_and_verify_with_its_own_algorithms_and_no_rotation(alice):
    page = alice.get(alice.create_key(KeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")).content.decode()

    assert "Sign and verify" in page and 'id="Sign_SigningAlgorithm"' in page
    assert '<option value="ECDSA_SHA_384"' in page and "ECDSA_SHA_256" not in page
    assert "GenerateDataKey/" not in page and "EnableKeyRotation/" not in page
    assert "keys do not rotate" in page
    assert "Download the public key" in page


def test_the_public_key_downloads_as_pem_from_a_real_get_public_key(alice):
    key_page = alice.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")

    response = alice.get(key_page + "public-key.pem")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{key_id_of(key_page)}.pem"'
    public_key = serialization.load_pem_public_key(response.content)
    assert public_key.key_size == 2048
    assert TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="GetPublicKey").count() == 1


def test_a_refused_public_key_download_shows_the_denial(alice):
    key_page = alice.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    alice.post(key_page + "DisableKey/")

    response = alice.get(key_page + "public-key.pem")

    assert response.status_code == 400 and codes(response) == ["DisabledException"]


def test_a_symmetric_key_has_no_public_key(alice):
    page = alice.get(alice.create_key()).content.decode()

    assert "Download the public key" not in page and "GenerateDataKey/" in page


def test_sign_fills_the_verify_form_and_the_signature_verifies_outside(alice):
    key_page = alice.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    public_key = serialization.load_pem_public_key(alice.get(key_page + "public-key.pem").content)

    body = alice.post(key_page + "Sign/", {"Message": "pay bob 10", "MessageType": "RAW",
                                           "SigningAlgorithm": "ECDSA_SHA_256"}, htmx=True).content.decode()

    assert codes_of(body) == []
    signature = base64.b64decode(shown(body, "signature"))
    public_key.verify(signature, b"pay bob 10", ec.ECDSA(hashes.SHA256()))
    assert re.search(r'id="Verify_Signature"[^>]*>\s*' + re.escape(shown(body, "signature")), body)
    verified = alice.post(key_page + "Verify/", {"Message": "pay bob 10", "MessageType": "RAW",
                                                 "SigningAlgorithm": "ECDSA_SHA_256",
                                                 "Signature": shown(body, "signature")}, htmx=True)
    assert codes(verified) == [] and "Succeeded" in verified.content.decode()
    tampered = alice.post(key_page + "Verify/", {"Message": "pay bob 1000", "MessageType": "RAW",
                                                 "SigningAlgorithm": "ECDSA_SHA_256",
                                                 "Signature": shown(body, "signature")}, htmx=True)
    assert codes(tampered) == ["KMSInvalidSignatureException"]


def test_sign_a_digest_typed_in_hex(alice):
    key_page = alice.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    public_key = serialization.load_pem_public_key(alice.get(key_page + "public-key.pem").content)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"release-1.0.tar.gz")
    digest = digest.finalize()

    body = alice.post(key_page + "Sign/", {"Message": digest.hex(), "MessageType": "DIGEST",
                                           "SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256"}, htmx=True).content.decode()

    public_key.verify(base64.b64decode(shown(body, "signature")), b"release-1.0.tar.gz", padding.PKCS1v15(), hashes.SHA256())


def test_generate_mac_fills_the_verify_mac_form(alice):
    key_page = alice.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")

    body = alice.post(key_page + "GenerateMac/", {"Message": "session-42", "MacAlgorithm": "HMAC_SHA_256"},
                      htmx=True).content.decode()

    mac = shown(body, "mac")
    assert len(base64.b64decode(mac)) == 32
    verified = alice.post(key_page + "VerifyMac/", {"Message": "session-42", "MacAlgorithm": "HMAC_SHA_256", "Mac": mac},
                          htmx=True)
    assert codes(verified) == []
    assert codes(alice.post(key_page + "VerifyMac/", {"Message": "session-43", "MacAlgorithm": "HMAC_SHA_256",
                                                      "Mac": mac}, htmx=True)) == ["KMSInvalidMacException"]


def test_an_rsa_key_encrypts_with_its_algorithm_and_without_context(alice):
    key_page = alice.create_key(KeySpec="RSA_3072", KeyUsage="ENCRYPT_DECRYPT")
    page = alice.get(key_page).content.decode()
    assert 'id="Encrypt_EncryptionAlgorithm"' in page and 'id="Encrypt_EncryptionContext"' not in page

    body = alice.post(key_page + "Encrypt/", {"Plaintext": "db password", "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
                      htmx=True).content.decode()

    assert codes_of(body) == []
    blob = shown(body, "ciphertext")
    assert len(base64.b64decode(blob)) == 3072 // 8
    decrypted = alice.post(key_page + "Decrypt/", {"CiphertextBlob": blob, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
                           htmx=True).content.decode()
    assert codes_of(decrypted) == [] and "db password" in decrypted


def codes_of(body):
    return re.findall(r'class="code">([^<]*)<', body)


def test_the_console_imports_material_of_the_keys_own_spec(alice):
    for spec, usage in [("HMAC_384", "GENERATE_VERIFY_MAC"), ("ECC_NIST_P521", "SIGN_VERIFY"), ("RSA_2048", "ENCRYPT_DECRYPT")]:
        key_page = alice.create_key(KeySpec=spec, KeyUsage=usage, Origin="EXTERNAL")

        body = alice.post(key_page + "import/", {"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}, htmx=True).content.decode()

        assert codes_of(body) == [] and ">Enabled<" in body, spec


def test_a_digest_that_is_not_hex_is_a_form_error_not_a_call(alice):
    key_page = alice.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")

    response = alice.post(key_page + "Sign/", {"Message": "not hex", "MessageType": "DIGEST",
                                               "SigningAlgorithm": "ECDSA_SHA_256"})

    assert response.status_code == 422
    assert "With MessageType DIGEST, type the digest in hex." in response.content.decode()
    assert not TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="Sign").exists()


def test_a_key_agreement_or_ml_kem_key_page_says_where_its_operations_are(alice):
    for spec, usage, operation in [("ECC_NIST_P256", "KEY_AGREEMENT", "DeriveSharedSecret"),
                                   ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE", "Encapsulate")]:
        page = alice.get(alice.create_key(KeySpec=spec, KeyUsage=usage)).content.decode()

        assert 'id="no-console-form"' in page and f"<code>{operation}</code>" in page
        assert "Download the public key" in page

"""The AWS CLI v1 and the AWS Encryption SDK, unchanged, pointed at kmslab."""
import base64
import os
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest

pytestmark = pytest.mark.live

AWS = Path(sys.executable).parent / "aws"


@pytest.fixture
def aws_cli(server, sandbox, tmp_path):
    principal = sandbox["principals"][0]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),  # no ~/.aws of the machine's
        "AWS_ACCESS_KEY_ID": principal["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": principal["secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }

    def run(*args):
        done = subprocess.run([str(AWS), "--endpoint-url", server.url, *args], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    return run


def test_the_cli_says_who_alice_is_and_round_trips_a_secret(aws_cli, alice, tmp_path):
    assert aws_cli("sts", "get-caller-identity", "--query", "Arn", "--output", "text") == (
        "arn:aws:iam::111122223333:user/admin"
    )
    key_id = alice("kms").create_key(Description="for the CLI")["KeyMetadata"]["KeyId"]
    (tmp_path / "secret.txt").write_bytes(b"the launch code")
    encoded = aws_cli("kms", "encrypt", "--key-id", key_id, "--plaintext", f"fileb://{tmp_path / 'secret.txt'}",
                      "--encryption-context", "app=cli", "--query", "CiphertextBlob", "--output", "text")
    (tmp_path / "secret.enc").write_bytes(base64.b64decode(encoded))
    decrypted = aws_cli("kms", "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'secret.enc'}",
                        "--encryption-context", "app=cli", "--query", "Plaintext", "--output", "text")
    assert base64.b64decode(decrypted) == b"the launch code"


def test_the_encryption_sdk_round_trips_one_megabyte(server, sandbox, alice, monkeypatch):
    import aws_encryption_sdk
    from aws_encryption_sdk import CommitmentPolicy

    principal = sandbox["principals"][0]
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", principal["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", principal["secret_access_key"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    key_arn = alice("kms").create_key(Description="for the Encryption SDK")["KeyMetadata"]["Arn"]

    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[key_arn],
                                                                botocore_session=botocore.session.Session())
    plaintext = os.urandom(1024 * 1024)
    ciphertext, header = client.encrypt(source=plaintext, key_provider=provider,
                                        encryption_context={"purpose": "integration-test"})
    assert [k.key_provider.key_info for k in header.encrypted_data_keys] == [key_arn.encode()]
    decrypted, decrypt_header = client.decrypt(source=ciphertext, key_provider=provider)
    assert decrypted == plaintext and decrypt_header.encryption_context["purpose"] == "integration-test"

    trail = alice("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key_arn}])["Events"]
    assert [e["EventName"] for e in trail] == ["Decrypt", "GenerateDataKey", "CreateKey"]

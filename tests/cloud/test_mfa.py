import base64
import hashlib
import io

import png
import pytest

from kmslab.cloud import mfa

# RFC 6238 Appendix B: the seeds are ASCII "1234567890" repeated to the digest's size.
SEEDS = {
    hashlib.sha1: b"12345678901234567890",
    hashlib.sha256: b"12345678901234567890123456789012",
    hashlib.sha512: b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, hashlib.sha1, "94287082"),
    (59, hashlib.sha256, "46119246"),
    (59, hashlib.sha512, "90693936"),
    (1111111109, hashlib.sha1, "07081804"),
    (1111111109, hashlib.sha256, "68084774"),
    (1111111109, hashlib.sha512, "25091201"),
    (1111111111, hashlib.sha1, "14050471"),
    (1111111111, hashlib.sha256, "67062674"),
    (1111111111, hashlib.sha512, "99943326"),
    (1234567890, hashlib.sha1, "89005924"),
    (1234567890, hashlib.sha256, "91819424"),
    (1234567890, hashlib.sha512, "93441116"),
    (2000000000, hashlib.sha1, "69279037"),
    (2000000000, hashlib.sha256, "90698825"),
    (2000000000, hashlib.sha512, "38618901"),
    (20000000000, hashlib.sha1, "65353130"),
    (20000000000, hashlib.sha256, "77737706"),
    (20000000000, hashlib.sha512, "47863826"),
]


@pytest.mark.parametrize("time,digest,expected", VECTORS)
def test_totp_matches_the_rfc_6238_test_vectors(time, digest, expected):
    seed = base64.b32encode(SEEDS[digest]).decode()
    assert mfa.totp(seed, time, digits=8, digest=digest) == expected


def test_a_new_seed_is_64_base32_characters_like_aws():
    seed = mfa.new_seed()
    assert len(seed) == 64
    assert len(base64.b32decode(seed)) == 40
    assert mfa.new_seed() != seed


def test_codes_are_accepted_one_step_either_side_and_no_further():
    seed = mfa.new_seed()
    now = 1_795_000_000.0
    assert mfa.verify(seed, mfa.totp(seed, now), now)
    assert mfa.verify(seed, mfa.totp(seed, now - 30), now)
    assert mfa.verify(seed, mfa.totp(seed, now + 30), now)
    assert not mfa.verify(seed, mfa.totp(seed, now - 60), now)
    assert not mfa.verify(seed, mfa.totp(seed, now + 60), now)


def test_enabling_needs_two_consecutive_codes_in_order():
    seed = mfa.new_seed()
    now = 1_795_000_000.0
    previous, current = mfa.totp(seed, now - 30), mfa.totp(seed, now)
    assert mfa.verify_consecutive(seed, previous, current, now)
    assert not mfa.verify_consecutive(seed, current, previous, now)
    assert not mfa.verify_consecutive(seed, current, current, now)
    # Two codes read a minute ago are stale.
    assert not mfa.verify_consecutive(seed, mfa.totp(seed, now - 90), mfa.totp(seed, now - 60), now)


def test_the_qr_code_is_a_png():
    data = mfa.qr_code_png("alice-phone", "alice", mfa.new_seed())
    width, height, _, _ = png.Reader(file=io.BytesIO(data)).read()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert width == height > 0

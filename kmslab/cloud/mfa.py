"""Virtual MFA: TOTP codes (RFC 6238) and the QR code IAM hands out.

Codes are checked against the real time, not the sandbox clock: a learner
reads them from a real authenticator app, which knows nothing of a sandbox
fast-forwarded by 30 days. Operations pass `world.clock.real()`, which tests
replace with a frozen clock.
"""
import base64
import hashlib
import hmac
import io
import os
import struct
from urllib.parse import quote

import qrcode
from qrcode.image.pure import PyPNGImage

STEP = 30  # seconds per code (RFC 6238 default, and what authenticator apps use)
DIGITS = 6


def new_seed():
    """A fresh secret as the Base32 text AWS returns: 40 random bytes, 64 characters."""
    return base64.b32encode(os.urandom(40)).decode()


def totp(seed, time, digits=DIGITS, digest=hashlib.sha1):
    """The code for a Base32 seed at a Unix time (RFC 6238, HOTP of RFC 4226 over time steps)."""
    key = base64.b32decode(seed)
    counter = struct.pack(">Q", int(time // STEP))
    mac = hmac.new(key, counter, digest).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def verify(seed, code, now):
    """Is `code` the code of the current step, or of one step either side (clock drift)?"""
    return any(hmac.compare_digest(totp(seed, now + drift * STEP), code) for drift in (-1, 0, 1))


def verify_consecutive(seed, code1, code2, now):
    """EnableMFADevice's check: two codes of consecutive steps, the second one current.

    "Current" allows one step of drift either side, as `verify` does.
    """
    for drift in (-1, 0, 1):
        second = now + drift * STEP
        if hmac.compare_digest(totp(seed, second - STEP), code1) and hmac.compare_digest(totp(seed, second), code2):
            return True
    return False


def qr_code_png(device_name, account_name, seed):
    """The PNG AWS returns as QRCodePNG: otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$Base32String."""
    uri = f"otpauth://totp/{quote(device_name)}@{quote(account_name)}?secret={seed}"
    out = io.BytesIO()
    qrcode.make(uri, image_factory=PyPNGImage).save(out)
    return out.getvalue()

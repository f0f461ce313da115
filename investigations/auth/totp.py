"""Time-based one-time passwords (RFC 6238, as authenticator apps use them): HMAC-SHA1,
six digits, a new code every 30 seconds. Written out here rather than taken from a library:
it is a few lines of the standard library, checked against the RFC's test vectors."""
import base64
import hmac
import re
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends; 32 base32 characters
ISSUER = "Investigations"


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    secret = secret.replace(" ", "").upper()
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def code_at(secret: str, step: int, digits: int = DIGITS) -> str:
    """The code for time step `step` (RFC 4226's HOTP of the step counter)."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), "sha1").digest()
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def current_step(now: float | None = None) -> int:
    return int(time.time() if now is None else now) // STEP_SECONDS


def normalize_code(code: str | None) -> str:
    """What people type: "123 456" and "123-456" are 123456."""
    return re.sub(r"[\s-]", "", code or "")


def matching_step(secret: str, code: str | None, last_step: int | None = None, now: float | None = None) -> int | None:
    """The time step whose code `code` is: the current one or one either side (clocks drift), and
    never one at or before `last_step`, the step of the last code accepted, so a code works once."""
    code = normalize_code(code)
    if not secret or len(code) != DIGITS or not code.isdigit():
        return None
    step = current_step(now)
    for candidate in (step - 1, step, step + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if hmac.compare_digest(code_at(secret, candidate), code):
            return candidate
    return None


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    """The otpauth:// address an authenticator app reads from a QR code."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS,
                       "period": STEP_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))

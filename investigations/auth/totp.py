"""Time-based one-time passwords (RFC 6238, as authenticator apps use them) through pyotp:
HMAC-SHA1, six digits, a new code every 30 seconds. This module adds what pyotp leaves to the app:
codes typed with spaces, one step of clock drift either side, and each code accepted only once."""
import hmac
import re
import time

import pyotp

STEP_SECONDS = 30
DIGITS = 6
SECRET_LENGTH = 32  # base32 characters: 160 bits, as RFC 4226 recommends
ISSUER = "Investigations"


def new_secret() -> str:
    return pyotp.random_base32(SECRET_LENGTH)


def _plain(secret: str) -> str:
    return secret.replace(" ", "").upper()


def code_at(secret: str, step: int, digits: int = DIGITS) -> str:
    """The code for time step `step` (RFC 4226's HOTP of the step counter)."""
    return pyotp.HOTP(_plain(secret), digits=digits).at(step)


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
    return pyotp.TOTP(_plain(secret), digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))

"""Receipt codes: what a complainant keeps to check on their complaint, e.g. K7PM-QX4T-2WNH.

Twelve characters from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B), read
aloud letter by letter: 25^12, about 2^55 codes, so guessing one is hopeless at the status page's
rate limit. Only the SHA-256 of the code is stored; the complainant sees it once.
"""
import hashlib
import secrets

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
GROUPS, GROUP_LENGTH = 3, 4
CODE_LENGTH = GROUPS * GROUP_LENGTH


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + GROUP_LENGTH] for i in range(0, CODE_LENGTH, GROUP_LENGTH))


def normalize(typed: str | None) -> str | None:
    """The code as typed ("k7pm qx4t-2wnh") in its canonical form, or None if it cannot be one."""
    compact = "".join(ch for ch in (typed or "").upper() if ch.isalnum())
    if len(compact) != CODE_LENGTH or any(ch not in ALPHABET for ch in compact):
        return None
    return "-".join(compact[i:i + GROUP_LENGTH] for i in range(0, CODE_LENGTH, GROUP_LENGTH))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()

"""Statement verification codes: short, random, and hard to misread (Crockford's base32: no I, L, O or U).

Ten characters are 50 bits: a stranger guessing codes at any rate the web server allows never finds one.
"""

from __future__ import annotations

import secrets

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
# What a person may type for what they read: Crockford's rules, with spaces and dashes ignored.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def new_verification_code() -> str:
    """A fresh code: the default of Statement.verification_code, so every statement has one when issued."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """The code as stored, from what someone typed or copied (`7k3m-9qx2pd` -> `7K3M9QX2PD`); None if it
    cannot be a code at all."""
    code = (text or "").upper().translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code

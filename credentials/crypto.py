"""Credentials tokens at rest: encrypted, and findable by a keyed digest.

The credentials GET must return the token a partner uses to call us, so tokens cannot be
hashed away; they are encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under a key derived
from OCPI_TOKEN_KEY. Lookups use an HMAC-SHA256 digest under a second derived key, so the
database never holds a token in clear and an index finds it without decrypting every row.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"ocpi-platform-credentials", info=purpose
    ).derive(secret.encode("utf-8"))


@cache
def _keys(secret: str) -> tuple[Fernet, bytes]:
    """Derive once per secret (tests may switch settings; the cache follows)."""
    encryption = Fernet(base64.urlsafe_b64encode(_derive(secret, b"encrypt")))
    return encryption, _derive(secret, b"digest")


def _fernet() -> Fernet:
    return _keys(settings.OCPI_TOKEN_KEY)[0]


def token_digest(token: str) -> str:
    return hmac.new(
        _keys(settings.OCPI_TOKEN_KEY)[1], token.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode("utf-8")).decode("ascii")


def decrypt_token(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("stored token cannot be decrypted: was OCPI_TOKEN_KEY changed?") from exc


def digests_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)

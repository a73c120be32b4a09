"""The credentials token on the wire: `Authorization: Token <base64(utf-8 token)>`.

OCPI 2.2.1 made the Base64 encoding explicit; many 2.1.1/2.2 peers still send the raw token.
The spec lets a receiver cope by trial: we try the decoded value first, then the raw one.
"""

import base64
import binascii
import re
import secrets

# Credentials tokens: printable ASCII without space, at most 64 characters (credentials §).
TOKEN_PATTERN = re.compile(r"^[\x21-\x7e]{1,64}$")
_HEADER = re.compile(r"^Token (?P<value>\S+)$", flags=re.IGNORECASE)


def generate_token() -> str:
    """Return a fresh, unguessable credentials token (256 bits, URL-safe alphabet)."""
    # Never a leading "-": operators paste tokens into command lines, where it reads as an option.
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


def encode_authorization(token: str, *, plain: bool = False) -> str:
    """Write the Authorization header value; `plain` for partners that expect raw tokens."""
    if plain:
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode("utf-8")).decode("ascii")


def token_candidates(header: str | None) -> list[str]:
    """Return the tokens an Authorization header may carry, Base64-decoded first, then raw."""
    if not header:
        return []
    match = _HEADER.match(header.strip())
    if match is None:
        return []
    value = match["value"]
    candidates: list[str] = []
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if TOKEN_PATTERN.match(decoded):
        candidates.append(decoded)
    if TOKEN_PATTERN.match(value) and value not in candidates:
        candidates.append(value)
    return candidates

"""Credentials tokens at rest (credentials/crypto.py; credentials.asciidoc, GET needs them back).

The database never holds a token in clear: tokens are encrypted, and found by a keyed digest
(HMAC-SHA256), so a stolen database neither reveals tokens nor lets them be checked offline.
"""

import hashlib
import re

import pytest
from django.db import connection

from credentials import crypto
from credentials.models import Invitation
from ocpi.tokens import generate_token
from tests.credentials.conftest import Registration


def all_stored_values(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - a fixed table name
        return [str(value) for row in cursor.fetchall() for value in row]


def test_no_table_holds_a_token_in_clear(
    registered: Registration, invitation: tuple[Invitation, str]
) -> None:
    _, token_a = invitation
    stored = all_stored_values("credentials_partnerplatform") + all_stored_values(
        "credentials_invitation"
    )

    for token in (token_a, registered.token_b, registered.token_c):
        assert [value for value in stored if token in value] == []


def test_the_lookup_digest_is_an_hmac_not_a_plain_sha256(registered: Registration) -> None:
    token = registered.token_c
    digest = registered.partner.incoming_token_digest

    assert digest == crypto.token_digest(token)
    assert re.fullmatch(r"[0-9a-f]{64}", str(digest))
    assert digest != hashlib.sha256(token.encode()).hexdigest()


def test_the_digest_depends_on_the_key(settings: object) -> None:
    settings.OCPI_TOKEN_KEY = "first key"  # type: ignore[attr-defined]
    first = crypto.token_digest("some-token")
    settings.OCPI_TOKEN_KEY = "second key"  # type: ignore[attr-defined]
    second = crypto.token_digest("some-token")

    assert first != second


def test_stored_tokens_decrypt_to_the_tokens(registered: Registration) -> None:
    partner = registered.partner
    partner.refresh_from_db()

    assert crypto.decrypt_token(partner.incoming_token_sealed) == registered.token_c
    assert crypto.decrypt_token(partner.outgoing_token_sealed) == registered.token_b


def test_encryption_is_randomised() -> None:
    assert crypto.encrypt_token("same-token") != crypto.encrypt_token("same-token")


def test_a_token_sealed_under_another_key_cannot_be_read(settings: object) -> None:
    settings.OCPI_TOKEN_KEY = "old key"  # type: ignore[attr-defined]
    sealed = crypto.encrypt_token("some-token")
    settings.OCPI_TOKEN_KEY = "new key"  # type: ignore[attr-defined]

    with pytest.raises(ValueError, match="^stored token cannot be decrypted: was OCPI_TOKEN_KEY"):
        crypto.decrypt_token(sealed)


def test_generated_tokens_are_unique_and_43_url_safe_characters() -> None:
    tokens = [generate_token() for _ in range(2000)]

    assert len(set(tokens)) == 2000
    assert [t for t in tokens if not re.fullmatch(r"[A-Za-z0-9_-]{43}", t)] == []

"""The Authorization header value (transport_and_format.asciidoc, Authorization header)."""

import base64

import pytest

from ocpi.tokens import TOKEN_PATTERN, encode_authorization, generate_token, token_candidates


def test_spec_vector_encodes_example_token() -> None:
    assert encode_authorization("example-token") == "Token ZXhhbXBsZS10b2tlbg=="


def test_plain_encoding_sends_the_raw_token() -> None:
    assert encode_authorization("example-token", plain=True) == "Token example-token"


def test_spec_vector_decodes_to_example_token_first() -> None:
    assert token_candidates("Token ZXhhbXBsZS10b2tlbg==") == [
        "example-token",
        "ZXhhbXBsZS10b2tlbg==",
    ]


def test_the_specs_buggy_example_does_not_yield_example_token() -> None:
    """`ZXhhbXBsZS10b2tlbgo=` is `example-token\\n`: the spec's example encodes a newline."""
    assert base64.b64decode("ZXhhbXBsZS10b2tlbgo=") == b"example-token\n"
    assert "example-token" not in token_candidates("Token ZXhhbXBsZS10b2tlbgo=")


def test_a_raw_token_is_a_candidate_as_it_is() -> None:
    assert token_candidates("Token 4f1c-not!base64") == ["4f1c-not!base64"]


@pytest.mark.parametrize("prefix", ["Token", "token", "TOKEN", "tOkEn"])
def test_the_prefix_is_read_case_insensitively(prefix: str) -> None:
    assert token_candidates(f"{prefix} ZXhhbXBsZS10b2tlbg==")[0] == "example-token"


def test_surrounding_whitespace_is_ignored() -> None:
    assert token_candidates("  Token ZXhhbXBsZS10b2tlbg==\t")[0] == "example-token"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "ZXhhbXBsZS10b2tlbg==",  # no prefix
        "Bearer ZXhhbXBsZS10b2tlbg==",
        "Basic ZXhhbXBsZS10b2tlbg==",
        "TokenZXhhbXBsZS10b2tlbg==",  # no space
        "Token  ZXhhbXBsZS10b2tlbg==",  # two spaces
        "Token",
        "Token ",
        "Token abc def",
        "Token " + "a" * 65,  # longer than a credentials token may be, and not Base64 of one
    ],
)
def test_malformed_headers_carry_no_token(header: str | None) -> None:
    assert token_candidates(header) == []


def test_base64_of_non_utf8_bytes_falls_back_to_the_raw_value() -> None:
    value = base64.b64encode(b"\xff\xfe\xfd").decode()

    assert token_candidates(f"Token {value}") == [value]


def test_base64_of_a_token_with_spaces_is_not_a_decoded_candidate() -> None:
    """Credentials tokens are U+0021 to U+007E only: no space inside."""
    value = base64.b64encode(b"two words").decode()

    assert token_candidates(f"Token {value}") == [value]


def test_generated_tokens_are_valid_credentials_tokens_and_unique() -> None:
    tokens = {generate_token() for _ in range(50)}

    assert len(tokens) == 50
    assert all(TOKEN_PATTERN.match(token) for token in tokens)


def test_generated_tokens_round_trip_through_the_header() -> None:
    token = generate_token()

    assert token_candidates(encode_authorization(token))[0] == token
    assert token_candidates(encode_authorization(token, plain=True))[0] == token


def test_generated_tokens_never_start_with_a_dash() -> None:
    from ocpi.tokens import generate_token

    assert not any(generate_token().startswith("-") for _ in range(2000))

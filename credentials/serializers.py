"""Serializers of the credentials module (credentials.asciidoc) and versions answers."""

from typing import Any

from rest_framework import serializers

from ocpi.enums import InterfaceRole, Role
from ocpi.fields import CiStringField, StringField, UrlField
from ocpi.serializers import BusinessDetailsSerializer, OcpiSerializer
from ocpi.tokens import TOKEN_PATTERN


class CredentialsRoleSerializer(OcpiSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    business_details = BusinessDetailsSerializer()
    party_id = CiStringField(max_length=3, min_length=3)
    country_code = CiStringField(max_length=2, min_length=2)


class CredentialsSerializer(OcpiSerializer):
    token = StringField(max_length=64)
    url = UrlField()
    roles = CredentialsRoleSerializer(many=True, allow_empty=False)

    def validate_token(self, value: str) -> str:
        if not TOKEN_PATTERN.match(value):
            raise serializers.ValidationError(
                "Must be 1 to 64 printable ASCII characters without spaces (U+0021 to U+007E)."
            )
        return value

    def validate_roles(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[tuple[str, str, str]] = set()
        for role in value:
            key = (role["role"], role["country_code"].upper(), role["party_id"].upper())
            if key in seen:
                raise serializers.ValidationError(
                    f"Role {key[0]} of {key[1]}*{key[2]} is listed twice."
                )
            seen.add(key)
        return value


class VersionSerializer(OcpiSerializer):
    version = StringField(max_length=10)
    url = UrlField()


class EndpointSerializer(OcpiSerializer):
    identifier = StringField(max_length=32)
    # The role of a credentials endpoint is meaningless (credentials.asciidoc): accept any.
    role = StringField(max_length=8)
    url = UrlField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["identifier"] != "credentials" and attrs["role"] not in InterfaceRole.values:
            raise serializers.ValidationError({"role": "Must be SENDER or RECEIVER."})
        return attrs


class VersionDetailsSerializer(OcpiSerializer):
    version = StringField(max_length=10)
    endpoints = EndpointSerializer(many=True, allow_empty=False)

"""One serializer per class of the Tokens module (mod_tokens.asciidoc, Object description).

They validate what eMSPs send (Receiver PUT/PATCH, pulled pages, authorize answers) into data
keyed by model attribute, and render cached tokens. Optional fields that are absent, null or
"" are not written back.
"""

from typing import Any

from rest_framework import serializers

from ocpi.fields import CiStringField, DateTimeField, StringField
from ocpi.serializers import DisplayTextSerializer, OcpiSerializer
from tokens.models import AllowedType, ProfileType, TokenType, WhitelistType


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean, never a string that looks like one ("false" would validate a token)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _optional_text(field: type[serializers.CharField], **kwargs: Any) -> Any:
    """An optional string: absent, null or "" all mean "not set"."""
    return field(required=False, allow_null=True, allow_blank=True, **kwargs)


class TokensOcpiSerializer(OcpiSerializer):
    """Also leaves out optional strings stored empty (the model keeps "" for absent text)."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        return {
            key: value
            for key, value in data.items()
            if not (value == "" and not self.fields[key].required)
        }


class EnergyContractSerializer(TokensOcpiSerializer):
    supplier_name = StringField(max_length=64)
    contract_id = _optional_text(StringField, max_length=64)


class TokenSerializer(TokensOcpiSerializer):
    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3, min_length=3)
    uid = CiStringField(max_length=36, min_length=1)
    type = serializers.ChoiceField(choices=TokenType.choices)
    contract_id = CiStringField(max_length=36, min_length=1)
    visual_number = _optional_text(StringField, max_length=64)
    issuer = StringField(max_length=64)
    group_id = _optional_text(CiStringField, max_length=36)
    valid = StrictBooleanField()
    whitelist = serializers.ChoiceField(choices=WhitelistType.choices)
    language = _optional_text(StringField, max_length=2, min_length=2)
    default_profile_type = serializers.ChoiceField(
        choices=ProfileType.choices, required=False, allow_null=True, allow_blank=True
    )
    energy_contract = EnergyContractSerializer(required=False, allow_null=True)
    last_updated = DateTimeField()


class LocationReferencesSerializer(TokensOcpiSerializer):
    location_id = CiStringField(max_length=36, min_length=1)
    evse_uids = serializers.ListField(
        child=CiStringField(max_length=36, min_length=1), required=False, allow_null=True
    )


class AuthorizationInfoSerializer(TokensOcpiSerializer):
    allowed = serializers.ChoiceField(choices=AllowedType.choices)
    token = TokenSerializer()
    location = LocationReferencesSerializer(required=False, allow_null=True)
    authorization_reference = _optional_text(CiStringField, max_length=36)
    info = DisplayTextSerializer(required=False, allow_null=True)

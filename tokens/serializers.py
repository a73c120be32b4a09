"""One serializer per class of the Tokens module (mod_tokens.asciidoc, Object description).

They validate what eMSPs send (Receiver PUT/PATCH, pulled pages, authorize answers) into data
keyed by model attribute, and render cached tokens. Optional fields that are absent, null or
"" are not written back.
"""

from rest_framework import serializers

from ocpi.fields import (
    CiStringField,
    DateTimeField,
    StrictBooleanField,
    StringField,
    optional_text,
)
from ocpi.serializers import BlankOmittingSerializer, DisplayTextSerializer
from tokens.models import AllowedType, ProfileType, TokenType, WhitelistType


class EnergyContractSerializer(BlankOmittingSerializer):
    supplier_name = StringField(max_length=64)
    contract_id = optional_text(StringField, max_length=64)


class TokenSerializer(BlankOmittingSerializer):
    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3, min_length=3)
    uid = CiStringField(max_length=36, min_length=1)
    type = serializers.ChoiceField(choices=TokenType.choices)
    contract_id = CiStringField(max_length=36, min_length=1)
    visual_number = optional_text(StringField, max_length=64)
    issuer = StringField(max_length=64)
    group_id = optional_text(CiStringField, max_length=36)
    valid = StrictBooleanField()  # "false", a string, would validate the token
    whitelist = serializers.ChoiceField(choices=WhitelistType.choices)
    language = optional_text(StringField, max_length=2, min_length=2)
    default_profile_type = serializers.ChoiceField(
        choices=ProfileType.choices, required=False, allow_null=True, allow_blank=True
    )
    energy_contract = EnergyContractSerializer(required=False, allow_null=True)
    last_updated = DateTimeField()


class LocationReferencesSerializer(BlankOmittingSerializer):
    location_id = CiStringField(max_length=36, min_length=1)
    evse_uids = serializers.ListField(
        child=CiStringField(max_length=36, min_length=1), required=False, allow_null=True
    )


class AuthorizationInfoSerializer(BlankOmittingSerializer):
    allowed = serializers.ChoiceField(choices=AllowedType.choices)
    token = TokenSerializer()
    location = LocationReferencesSerializer(required=False, allow_null=True)
    authorization_reference = optional_text(CiStringField, max_length=36)
    info = DisplayTextSerializer(required=False, allow_null=True)

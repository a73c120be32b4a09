"""Serializers for the OCPI classes shared by several modules (types.asciidoc)."""

from typing import Any

from rest_framework import serializers

from ocpi.enums import ImageCategory
from ocpi.fields import CiStringField, NumberField, StringField, UrlField


class OcpiSerializer(serializers.Serializer[Any]):
    """Base for OCPI classes: optional fields accept null and are omitted when empty.

    OCPI allows `?` fields to be absent or null and `*` lists to be absent, null or [];
    we accept all three on input and write none of them (absent is the plainest answer).
    """

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if value is not None and value != []}


class DisplayTextSerializer(OcpiSerializer):
    language = StringField(max_length=2, min_length=2)
    text = StringField(max_length=512)


class PriceSerializer(OcpiSerializer):
    excl_vat = NumberField()
    incl_vat = NumberField(required=False, allow_null=True)


class ImageSerializer(OcpiSerializer):
    url = UrlField()
    thumbnail = UrlField(required=False, allow_null=True)
    category = serializers.ChoiceField(choices=ImageCategory.choices)
    type = CiStringField(max_length=4)
    width = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=99999)
    height = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=99999)


class BusinessDetailsSerializer(OcpiSerializer):
    name = StringField(max_length=100)
    website = UrlField(required=False, allow_null=True)
    logo = ImageSerializer(required=False, allow_null=True)

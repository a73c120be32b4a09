"""Serializers for the OCPI classes shared by several modules (types.asciidoc)."""

from collections.abc import Iterable
from typing import Any

from rest_framework import serializers
from rest_framework.fields import SkipField

from ocpi.enums import EnergySourceCategory, EnvironmentalImpactCategory, ImageCategory
from ocpi.fields import CiStringField, NumberField, StringField, UrlField


class OcpiSerializer(serializers.Serializer[Any]):
    """Base for OCPI classes: optional fields accept null and are omitted when empty.

    OCPI allows `?` fields to be absent or null and `*` lists to be absent, null or [];
    we accept all three on input and write none of them (absent is the plainest answer).
    """

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if self.written(key, value)}

    def written(self, key: str, value: Any) -> bool:
        """Whether field `key` rendered as `value` is written (else it is left out)."""
        return value is not None and value != []

    def represent_fields(self, instance: Any, names: Iterable[str]) -> dict[str, Any]:
        """Only the fields `names` of `instance`, rendered and left out as to_representation
        does it: a PATCH of a few fields without rendering all the others."""
        data: dict[str, Any] = {}
        for name in names:
            field = self.fields[name]
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            data[name] = None if attribute is None else field.to_representation(attribute)
        return {key: value for key, value in data.items() if self.written(key, value)}


class BlankOmittingSerializer(OcpiSerializer):
    """Also leaves out optional strings stored empty (the models keep "" for absent text)."""

    def written(self, key: str, value: Any) -> bool:
        return super().written(key, value) and not (value == "" and not self.fields[key].required)


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


class EnergySourceSerializer(OcpiSerializer):
    """EnergySource (mod_locations): one source's share of the mix, 0–100 percent."""

    # The serializer metaclass takes declared fields off the class, so this does not shadow
    # Field.source at run time; only the stubs see a clash.
    source = serializers.ChoiceField(choices=EnergySourceCategory.choices)  # type: ignore[assignment]
    percentage = NumberField(min_value=0, max_value=100)


class EnvironmentalImpactSerializer(OcpiSerializer):
    """EnvironmentalImpact (mod_locations): grams per kWh of one category."""

    category = serializers.ChoiceField(choices=EnvironmentalImpactCategory.choices)
    amount = NumberField(min_value=0)


class EnergyMixSerializer(OcpiSerializer):
    """EnergyMix (mod_locations): used by Location and Tariff alike, hence shared here."""

    is_green_energy = serializers.BooleanField()
    energy_sources = EnergySourceSerializer(many=True, required=False, allow_null=True)
    environ_impact = EnvironmentalImpactSerializer(many=True, required=False, allow_null=True)
    supplier_name = StringField(max_length=64, required=False, allow_null=True)
    energy_product_name = StringField(max_length=64, required=False, allow_null=True)

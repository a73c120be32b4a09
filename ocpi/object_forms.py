"""Inputs of the OCPI classes shared by several modules (ocpi.serializers): DisplayText,
Image, BusinessDetails and EnergyMix, for the admin forms of locations (and tariffs).

Labels are the spec's field names, so the serializers' messages (`logo: url: …`) point at
the input they name; help texts give the spec's rules an operator would otherwise look up.
"""

from django import forms

from ocpi.enums import EnergySourceCategory, EnvironmentalImpactCategory, ImageCategory
from ocpi.form_rows import ObjectField, OcpiObjectForm, RowsField, choices_with_blank


def text_input(**kwargs: object) -> forms.CharField:
    return forms.CharField(required=False, **kwargs)  # type: ignore[arg-type]


def url_input(**kwargs: object) -> forms.CharField:
    return forms.CharField(required=False, widget=forms.URLInput, **kwargs)  # type: ignore[arg-type]


def choice_input(choices: object, **kwargs: object) -> forms.ChoiceField:
    return forms.ChoiceField(
        required=False,
        choices=choices_with_blank(choices),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def number_input(**kwargs: object) -> forms.DecimalField:
    return forms.DecimalField(required=False, **kwargs)  # type: ignore[arg-type]


class DisplayTextForm(OcpiObjectForm):
    language = text_input(label="language", help_text="ISO 639-1 code, e.g. en")
    text = text_input(label="text", help_text="At most 512 characters, no markup")


class ImageForm(OcpiObjectForm):
    url = url_input(label="url")
    thumbnail = url_input(label="thumbnail", help_text="At most 128×128 pixels")
    category = choice_input(ImageCategory.choices, label="category")
    type = text_input(label="type", help_text="e.g. jpeg, png, gif")
    width = forms.IntegerField(required=False, label="width", help_text="pixels")
    height = forms.IntegerField(required=False, label="height", help_text="pixels")


class BusinessDetailsForm(OcpiObjectForm):
    name = text_input(label="name", help_text="Required once anything here is filled in")
    website = url_input(label="website")
    logo = ObjectField(ImageForm, label="logo", help_text="Leave blank for no logo")


class EnergySourceForm(OcpiObjectForm):
    source = choice_input(EnergySourceCategory.choices, label="source")
    percentage = number_input(label="percentage", help_text="0–100")


class EnvironmentalImpactForm(OcpiObjectForm):
    category = choice_input(EnvironmentalImpactCategory.choices, label="category")
    amount = number_input(label="amount", help_text="g/kWh")


def _yes_no(value: str) -> bool:
    return value == "True"


class EnergyMixForm(OcpiObjectForm):
    # yes / no / not chosen: `{"is_green_energy": false}` alone is a whole EnergyMix, which an
    # unticked box could not tell from "no energy mix".
    is_green_energy = forms.TypedChoiceField(
        required=False,
        choices=choices_with_blank([(True, "yes"), (False, "no")]),
        coerce=_yes_no,
        empty_value=None,
        label="is_green_energy",
        help_text="100% from regenerative sources",
    )
    energy_sources = RowsField(EnergySourceForm, label="energy_sources")
    environ_impact = RowsField(EnvironmentalImpactForm, label="environ_impact")
    supplier_name = text_input(label="supplier_name")
    energy_product_name = text_input(label="energy_product_name")

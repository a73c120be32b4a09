"""OCPI classes shared by modules (types.asciidoc) and the cardinality rules of the base class.

`?` fields may be absent or null, `*` lists absent, null or []; we accept all of them and
write none of them.
"""

from decimal import Decimal
from typing import Any

from ocpi.serializers import (
    BusinessDetailsSerializer,
    DisplayTextSerializer,
    ImageSerializer,
    PriceSerializer,
)

LOGO = {
    "url": "https://cpo.example.com/logo.png",
    "category": "OPERATOR",
    "type": "png",
    "width": 512,
    "height": 512,
}


def validated(serializer: Any) -> Any:
    assert serializer.is_valid(), serializer.errors
    return serializer.validated_data


def test_price_reads_exact_decimals_and_an_absent_incl_vat() -> None:
    assert validated(PriceSerializer(data={"excl_vat": Decimal("0.25")})) == {
        "excl_vat": Decimal("0.25")
    }


def test_price_accepts_a_null_optional_field() -> None:
    assert validated(PriceSerializer(data={"excl_vat": 1, "incl_vat": None})) == {
        "excl_vat": Decimal("1"),
        "incl_vat": None,
    }


def test_price_requires_excl_vat() -> None:
    serializer = PriceSerializer(data={"incl_vat": Decimal("1.21")})

    assert not serializer.is_valid()
    assert serializer.errors == {"excl_vat": ["This field is required."]}


def test_empty_optional_fields_are_left_out_of_the_output() -> None:
    assert PriceSerializer({"excl_vat": Decimal("0.25"), "incl_vat": None}).data == {
        "excl_vat": Decimal("0.25")
    }


def test_display_text_language_is_two_characters() -> None:
    serializer = DisplayTextSerializer(data={"language": "eng", "text": "Hello"})

    assert not serializer.is_valid()
    assert serializer.errors == {"language": ["Ensure this field has no more than 2 characters."]}


def test_display_text_is_read() -> None:
    assert validated(DisplayTextSerializer(data={"language": "nl", "text": "Laadpaal"})) == {
        "language": "nl",
        "text": "Laadpaal",
    }


def test_image_type_is_a_cistring_of_four() -> None:
    serializer = ImageSerializer(data={**LOGO, "type": "webpx"})

    assert not serializer.is_valid()
    assert serializer.errors == {"type": ["Ensure this field has no more than 4 characters."]}


def test_image_category_is_an_ocpi_enum_value() -> None:
    serializer = ImageSerializer(data={**LOGO, "category": "operator"})

    assert not serializer.is_valid()
    assert serializer.errors == {"category": ['"operator" is not a valid choice.']}


def test_business_details_nest_an_image_and_omit_what_is_absent() -> None:
    data = validated(BusinessDetailsSerializer(data={"name": "TNM", "logo": LOGO}))

    assert BusinessDetailsSerializer(data).data == {"name": "TNM", "logo": LOGO}

"""Admin forms that validate through the OCPI serializers, so errors show on the field.

Each form turns its input into the OCPI shape (`ocpi_data`) and runs the serializer of that
class; the error paths it reports (`min_price.excl_vat`, `restrictions.max_kwh`,
`price_components.0.step_size`) are mapped back to the form field they came from. The admin
then saves the assembled Tariff through tariffs.services.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from credentials.selectors import local_party
from ocpi.routing import PartyRef
from ocpi.time import format_datetime
from tariffs.durations import parse_duration, readable_duration
from tariffs.models import (
    DECIMAL_PLACES,
    MAX_DIGITS,
    RESTRICTION_FIELDS,
    DayOfWeek,
    PriceComponent,
    Tariff,
    TariffDimensionType,
    TariffElement,
)
from tariffs.serializers import (
    PriceComponentSerializer,
    TariffElementSerializer,
    TariffRestrictionsSerializer,
    TariffSerializer,
)

TARIFF_FIELDS = {
    "id": "ocpi_id",
    "min_price": "min_price_excl_vat",
    "min_price.excl_vat": "min_price_excl_vat",
    "min_price.incl_vat": "min_price_incl_vat",
    "max_price": "max_price_excl_vat",
    "max_price.excl_vat": "max_price_excl_vat",
    "max_price.incl_vat": "max_price_incl_vat",
    **{
        name: name
        for name in (
            "country_code",
            "party_id",
            "currency",
            "type",
            "tariff_alt_text",
            "tariff_alt_url",
            "start_date_time",
            "end_date_time",
            "energy_mix",
        )
    },
}
RESTRICTION_FORM_FIELDS = {f"restrictions.{name}": name for name in RESTRICTION_FIELDS}
COMPONENT_FIELDS = ("type", "price", "vat", "step_size")


def _flatten(detail: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            yield from _flatten(value, path if key == "non_field_errors" else (*path, str(key)))
    elif isinstance(detail, list) and all(isinstance(item, str) for item in detail):
        for item in detail:
            yield path, str(item)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            yield from _flatten(item, (*path, str(index)))
    else:
        yield path, str(detail)


def add_serializer_errors(
    form: forms.BaseForm, errors: Any, field_map: Mapping[str, str | None]
) -> None:
    """Put each serializer error on the form field its path maps to (longest prefix wins)."""
    for path, message in _flatten(errors):
        field, rest = None, path
        for cut in range(len(path), 0, -1):
            key = ".".join(path[:cut])
            if key in field_map:
                field, rest = field_map[key], path[cut:]
                break
        text = f"{'.'.join(rest)}: {message}" if rest else message
        form.add_error(field if field in form.fields else None, text)


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != "" and v != []}


def component_data(values: Mapping[str, Any]) -> dict[str, Any]:
    return _present({name: values.get(name) for name in COMPONENT_FIELDS})


def restrictions_data(values: Mapping[str, Any]) -> dict[str, Any]:
    return _present({name: values.get(name) for name in RESTRICTION_FIELDS})


class TariffForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Tariff
        fields = [
            "country_code",
            "party_id",
            "ocpi_id",
            "currency",
            "type",
            "tariff_alt_text",
            "tariff_alt_url",
            "min_price_excl_vat",
            "min_price_incl_vat",
            "max_price_excl_vat",
            "max_price_incl_vat",
            "start_date_time",
            "end_date_time",
            "energy_mix",
        ]

    ocpi_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        instance = self.instance
        country_code = cleaned.get("country_code", instance.country_code) or ""
        party_id = cleaned.get("party_id", instance.party_id) or ""
        new_owner = "country_code" in self.fields and country_code and party_id
        if new_owner and local_party(PartyRef.of(country_code, party_id)) is None:
            self.add_error("party_id", f"{country_code}*{party_id} is not one of our parties.")
        prices = {
            side: _present(
                {
                    "excl_vat": cleaned.get(f"{side}_price_excl_vat"),
                    "incl_vat": cleaned.get(f"{side}_price_incl_vat"),
                }
            )
            for side in ("min", "max")
        }
        self.ocpi_data = _present(
            {
                "country_code": country_code,
                "party_id": party_id,
                "id": cleaned.get("ocpi_id", instance.ocpi_id),
                "currency": cleaned.get("currency"),
                "type": cleaned.get("type"),
                "tariff_alt_text": cleaned.get("tariff_alt_text"),
                "tariff_alt_url": cleaned.get("tariff_alt_url"),
                "min_price": prices["min"] or None,
                "max_price": prices["max"] or None,
                "start_date_time": _datetime(cleaned.get("start_date_time")),
                "end_date_time": _datetime(cleaned.get("end_date_time")),
                "energy_mix": cleaned.get("energy_mix"),
            }
        )
        # partial: the elements are the inline's to check (TariffElementForm).
        serializer = TariffSerializer(data=self.ocpi_data, partial=True)
        if not serializer.is_valid():
            add_serializer_errors(self, serializer.errors, TARIFF_FIELDS)
        return cleaned


def _datetime(value: Any) -> str | None:
    return format_datetime(value) if value is not None else None


class DurationSecondsField(forms.CharField):
    """Seconds shown and typed as people read them ("1 h 30 min"); a bare number is seconds."""

    def prepare_value(self, value: Any) -> Any:
        return readable_duration(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        if isinstance(value, int):
            return value
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


_TIMED = (TariffDimensionType.TIME, TariffDimensionType.PARKING_TIME)
STEP_SIZE_HELP = "Wh for ENERGY (a number); for TIME and PARKING_TIME a duration such as 15 min."


def step_size_field(**kwargs: Any) -> forms.CharField:
    """A step size as typed: Wh for ENERGY, a readable duration for TIME and PARKING_TIME."""
    return forms.CharField(help_text=STEP_SIZE_HELP, **kwargs)


def step_size_value(kind: str | None, text: Any) -> int | None:
    """The step size in OCPI's unit for a component of `kind`; ValidationError if unreadable."""
    if text is None or str(text).strip() == "":
        return None
    try:
        if kind in _TIMED:
            return parse_duration(str(text))
        if str(text).strip().isdigit():
            return int(str(text).strip())
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    raise ValidationError(f"{text} is not a whole number of Wh (ENERGY) or a duration.")


def step_size_shown(kind: str, step_size: int) -> str:
    return readable_duration(step_size) if kind in _TIMED else str(step_size)


def _duration_field(help_text: str) -> DurationSecondsField:
    return DurationSecondsField(
        required=False, help_text=f"{help_text}, e.g. 30 min or 1 h 30 min."
    )


class _RestrictionsForm(forms.ModelForm):  # type: ignore[type-arg]
    day_of_week = forms.MultipleChoiceField(
        choices=DayOfWeek.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    min_duration = _duration_field("Since session start, inclusive")
    max_duration = _duration_field("Since session start, exclusive")


class TariffElementInlineForm(_RestrictionsForm):
    """An element on the tariff's page: its restrictions, and one price component to add.

    Django cannot nest inlines, so a new element gets its first component here and further
    ones on the element's own page.
    """

    order = forms.IntegerField(
        required=False, min_value=1, help_text="Elements apply first-match in this order."
    )
    new_component_type = forms.ChoiceField(
        label="Add component: type",
        choices=[("", "---------"), *TariffDimensionType.choices],
        required=False,
    )
    new_component_price = forms.DecimalField(
        label="price", required=False, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES
    )
    new_component_vat = forms.DecimalField(
        label="VAT %",
        required=False,
        help_text="Empty: no VAT applicable.",
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
    )
    new_component_step_size = step_size_field(label="step size", required=False)

    class Meta:
        model = TariffElement
        fields = list(RESTRICTION_FIELDS)

    ocpi_data: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["order"].initial = self.instance.position + 1

    def clean_new_component_step_size(self) -> int | None:
        kind = self.cleaned_data.get("new_component_type")
        return step_size_value(kind, self.cleaned_data.get("new_component_step_size"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        components = [
            component_data({name: getattr(c, name) for name in COMPONENT_FIELDS})
            for c in (self.instance.price_components.all() if self.instance.pk else [])
        ]
        new = component_data(
            {name: cleaned.get(f"new_component_{name}") for name in COMPONENT_FIELDS}
        )
        new_index = len(components) if new else None
        if new:
            components.append(new)
        restrictions = restrictions_data(cleaned)
        self.ocpi_data = {"price_components": components}
        if restrictions:
            self.ocpi_data["restrictions"] = restrictions
        if not components:
            self.add_error("new_component_type", "An element needs a price component.")
        serializer = TariffElementSerializer(data=self.ocpi_data)
        if not serializer.is_valid():
            field_map: dict[str, str | None] = {
                **RESTRICTION_FORM_FIELDS,
                "restrictions": None,
                "price_components": "new_component_type",
            }
            if new_index is not None:
                field_map.update(
                    {f"price_components.{new_index}": "new_component_type"}
                    | {
                        f"price_components.{new_index}.{name}": f"new_component_{name}"
                        for name in COMPONENT_FIELDS
                    }
                )
            # Without components the field already says so, in words.
            errors = {
                k: v for k, v in serializer.errors.items() if components or k != "price_components"
            }
            add_serializer_errors(self, errors, field_map)
        return cleaned


def _deleted(form: forms.BaseForm) -> bool:
    return bool(getattr(form, "cleaned_data", {}).get("DELETE"))


class TariffElementInlineFormSet(forms.BaseInlineFormSet):  # type: ignore[type-arg]
    def kept_forms(self) -> list[Any]:
        """The element forms to save, in their order: existing by position, then new ones."""
        kept = [
            (index, form)
            for index, form in enumerate(self.forms)
            if hasattr(form, "ocpi_data") and not _deleted(form)
        ]

        def key(item: tuple[int, Any]) -> tuple[int, int]:
            index, form = item
            order = form.cleaned_data.get("order")
            if order is None:  # existing elements keep their place, new ones go last
                order = form.instance.position + 1 if form.instance.pk else 10**9
            return order, index

        return [form for _, form in sorted(kept, key=key)]

    def clean(self) -> None:
        super().clean()
        if not any(form.errors for form in self.forms) and not self.kept_forms():
            raise ValidationError("A tariff needs at least one element (elements: +).")


class TariffElementForm(_RestrictionsForm):
    """An element's own page: its restrictions (components are the inline below)."""

    class Meta:
        model = TariffElement
        fields = list(RESTRICTION_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        serializer = TariffRestrictionsSerializer(data=restrictions_data(cleaned))
        if not serializer.is_valid():
            add_serializer_errors(self, serializer.errors, {n: n for n in RESTRICTION_FIELDS})
        return cleaned


class PriceComponentForm(forms.ModelForm):  # type: ignore[type-arg]
    step_size = step_size_field(label="step size")

    class Meta:
        model = PriceComponent
        fields = list(COMPONENT_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            shown = step_size_shown(self.instance.type, self.instance.step_size)
            self.initial["step_size"] = shown

    def clean_step_size(self) -> int | None:
        value = step_size_value(self.cleaned_data.get("type"), self.cleaned_data.get("step_size"))
        if value is None:
            raise ValidationError("A step size is required (0 or 1 for FLAT).")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        serializer = PriceComponentSerializer(data=component_data(cleaned))
        if not serializer.is_valid():
            add_serializer_errors(self, serializer.errors, {n: n for n in COMPONENT_FIELDS})
        return cleaned


class PriceComponentFormSet(forms.BaseInlineFormSet):  # type: ignore[type-arg]
    def kept_data(self) -> list[dict[str, Any]]:
        return [
            component_data(form.cleaned_data)
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not _deleted(form)
        ]

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        element: TariffElement = self.instance
        data: dict[str, Any] = {"price_components": self.kept_data()}
        if element.restrictions:
            data["restrictions"] = element.restrictions
        serializer = TariffElementSerializer(data=data)
        if not serializer.is_valid():
            errors = serializer.errors.get("price_components")
            if errors:
                raise ValidationError(
                    [f"price_components: {message}" for _, message in _flatten(errors)]
                )

"""Structured admin inputs for OCPI objects: one object as a group of inputs, a list as rows.

An operator never types JSON. Each OCPI class the admin edits has a small form
(`OcpiObjectForm`) whose fields are the class's fields; `ObjectField` puts one such form into a
page's form (business details, energy mix, opening hours), `RowsField` a list of them as the
rows of a table (images, directions, regular hours…). Everything is server-side: the page
posts plain named inputs (`operator-name`, `images-0-url`, `images-TOTAL_ROWS`) and works
without script; ocpi/form_rows.js only adds an "Add a row" button that copies a blank row
(the admin's CSP runs no inline script).

These forms only turn inputs into the OCPI object (a number from its text, a DateTime typed
in the zone the page names (`set_zone`: a location's) into UTC, blank inputs left out); the
OCPI rules stay with the serializers, which the page's form runs on the whole object
(locations.forms.validate_into), so a rule lives once.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from ocpi.display import known_zone
from ocpi.time import format_datetime, parse_datetime

# More rows than any OCPI list of a location needs; bounds the work a tampered count causes.
MAX_ROWS = 500
ROW_COUNT_SUFFIX = "TOTAL_ROWS"
REMOVE = "REMOVE"


def _unset(value: Any) -> bool:
    return value is None or value == "" or value == []


class OcpiObjectForm(forms.Form):
    """The inputs of one OCPI object; a blank input means "not set" and is left out. Its
    date-times (nested ones too) are typed and shown in `zone` (an IANA name), else UTC."""

    def __init__(self, *args: Any, zone: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if zone is not None:
            set_zone(self.fields.values(), zone)

    def to_ocpi(self) -> dict[str, Any]:
        """The OCPI object of a valid form, in the field names of the spec."""
        return {name: value for name, value in self.cleaned_data.items() if not _unset(value)}

    @classmethod
    def initial_from(cls, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs' values for a stored OCPI object (the inverse of to_ocpi)."""
        return {name: obj.get(name) for name in cls.base_fields}

    def is_blank(self) -> bool:
        """Nothing typed, ticked or chosen: the object is not set (or the row is unused)."""
        for name, field in self.fields.items():
            raw = self[name].data
            if isinstance(field, ObjectField | RowsField):
                if not field.is_blank(raw):
                    return False
            elif not (raw is None or raw is False or raw == "" or raw == []):
                return False
        return True

    def messages(self) -> list[str]:
        """This form's errors as `field: message` lines (nested fields already prefixed)."""
        return [
            str(message) if name == "__all__" else f"{name}: {message}"
            for name, errors in self.errors.items()
            for message in errors
        ]


class ObjectWidget(forms.Widget):
    """One OCPI object's inputs, each with its label and help."""

    template_name = "ocpi/widgets/object.html"
    zone: str | None = None  # set_zone's, handed to the object's form

    def __init__(self, form_class: type[OcpiObjectForm], attrs: dict[str, Any] | None = None):
        self.form_class = form_class
        super().__init__(attrs)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> OcpiObjectForm:
        return self.form_class(data=data, files=files, prefix=name, zone=self.zone)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # an unticked box posts nothing, yet says "false"

    def format_value(self, value: Any) -> Any:
        return value

    def id_for_label(self, id_: str) -> str:
        return ""  # a group of inputs: each has its own label

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        subform = self.subform(name, value)
        context["subform"] = subform
        context["fields"] = [
            {
                "field": field,
                # A nested object (a logo) folds away while it is not set.
                "collapsible": isinstance(field.field, ObjectField),
                "open": _is_set(subform, field),
            }
            for field in subform
        ]
        return context

    def subform(self, name: str, value: Any) -> OcpiObjectForm:
        if isinstance(value, self.form_class) and value.is_bound:
            return value  # as posted, with its errors
        initial = self.form_class.initial_from(value or {})
        return self.form_class(prefix=name, initial=initial, zone=self.zone)


def _is_set(form: OcpiObjectForm, field: forms.BoundField) -> bool:
    """Whether a nested object shows a value (stored, typed or refused)."""
    if not form.is_bound:
        return bool(field.value())
    nested = field.field
    blank = nested.is_blank(field.data) if isinstance(nested, ObjectField) else True
    return not blank or bool(field.errors)


class ObjectField(forms.Field):
    """An optional OCPI object edited through `form_class`; all inputs blank = not set."""

    def __init__(self, form_class: type[OcpiObjectForm], **kwargs: Any) -> None:
        self.form_class = form_class
        kwargs.setdefault("required", False)
        super().__init__(widget=ObjectWidget(form_class), **kwargs)

    def is_blank(self, value: Any) -> bool:
        return not isinstance(value, OcpiObjectForm) or value.is_blank()

    def clean(self, value: Any) -> dict[str, Any] | None:
        if self.is_blank(value):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        assert isinstance(value, OcpiObjectForm)
        if not value.is_valid():
            raise ValidationError(value.messages())
        return value.to_ocpi()

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return bool(self.clean(data) != (initial or None))
        except ValidationError:
            return True


class BoundRows(list[OcpiObjectForm]):
    """The rows as posted (bound forms, blank ones included, in their posted order)."""


class RowsWidget(forms.Widget):
    """A table: a row per object, a few blank rows to add to, a box to remove a row."""

    template_name = "ocpi/widgets/rows.html"
    zone: str | None = None  # set_zone's, handed to each row's form

    class Media:
        js = ["ocpi/form_rows.js"]
        css = {"all": ["ocpi/form_rows.css"]}

    def __init__(
        self,
        form_class: type[OcpiObjectForm],
        extra: int,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self.form_class = form_class
        self.extra = extra
        super().__init__(attrs)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> BoundRows:
        try:
            count = min(int(data.get(f"{name}-{ROW_COUNT_SUFFIX}") or 0), MAX_ROWS)
        except (TypeError, ValueError):
            count = 0
        return BoundRows(
            self.form_class(data=data, files=files, prefix=f"{name}-{index}", zone=self.zone)
            for index in range(count)
            if not data.get(f"{name}-{index}-{REMOVE}")
        )

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False

    def format_value(self, value: Any) -> Any:
        return value

    def id_for_label(self, id_: str) -> str:
        return ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        if isinstance(value, BoundRows):
            # Blank posted rows are dropped, so row n is the n-th object the messages name.
            rows = [form for form in value if not form.is_blank()]
            next_index = 1 + max((_row_index(form, name) for form in value), default=-1)
        else:
            rows = [
                self.form_class(
                    prefix=f"{name}-{index}",
                    initial=self.form_class.initial_from(obj),
                    zone=self.zone,
                )
                for index, obj in enumerate(value or [])
            ]
            next_index = len(rows)
        blanks = [
            self.form_class(prefix=f"{name}-{next_index + offset}", zone=self.zone)
            for offset in range(self.extra)
        ]
        numbered = [*((f"{number}", form) for number, form in enumerate(rows, start=1))]
        numbered += [("new", form) for form in blanks]
        context["rows"] = [
            _row(form, number, position, name)
            for position, (number, form) in enumerate(numbered, start=1)
        ]
        template = self.form_class(prefix=f"{name}-__prefix__", zone=self.zone)
        context["template_row"] = _row(template, "new", "__prefix__", name)
        # The headers of the rows' own fields: a date-time's help names the zone it is in.
        context["columns"] = [
            (field.label or field_name, field.help_text, _column_help_id(name, field_name))
            for field_name, field in template.fields.items()
        ]
        context["count_name"] = f"{name}-{ROW_COUNT_SUFFIX}"
        context["count"] = next_index + self.extra
        return context


def _column_help_id(name: str, field_name: str) -> str:
    return f"id_{name}-{field_name}_columnhelp"


def _row_index(form: OcpiObjectForm, name: str) -> int:
    return int((form.prefix or "").removeprefix(f"{name}-"))


def _row(form: OcpiObjectForm, number: str, position: Any, name: str) -> dict[str, Any]:
    """One table row; every input labelled for screen readers (the header is the label)."""
    for field_name, field in form.fields.items():
        field.widget.attrs["aria-label"] = f"{name} row {position}: {field.label or field_name}"
        if field.help_text:  # the column's help, in its header
            field.widget.attrs["aria-describedby"] = _column_help_id(name, field_name)
    return {
        "form": form,
        "number": number,
        "remove_name": f"{form.prefix}-{REMOVE}",
        "remove_label": f"{name} row {position}: remove",
        "removable": number != "new",
    }


class RowsField(forms.Field):
    """An optional list of OCPI objects, a row each; no rows = not set."""

    def __init__(self, form_class: type[OcpiObjectForm], *, extra: int = 2, **kwargs: Any):
        self.form_class = form_class
        kwargs.setdefault("required", False)
        super().__init__(widget=RowsWidget(form_class, extra), **kwargs)

    def is_blank(self, value: Any) -> bool:
        return not value or all(form.is_blank() for form in value)

    def clean(self, value: Any) -> list[dict[str, Any]] | None:
        rows = [form for form in (value or []) if not form.is_blank()]
        errors = [
            f"row {number}: {line}"
            for number, form in enumerate(rows, start=1)
            if not form.is_valid()
            for line in form.messages()
        ]
        if errors:
            raise ValidationError(errors)
        if not rows:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        return [form.to_ocpi() for form in rows]

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return bool(self.clean(data) != (initial or None))
        except ValidationError:
            return True


class ZonedDateTimeField(forms.CharField):
    """An OCPI DateTime in a date-and-time input, typed and shown as the wall-clock time of
    its zone (UTC until `set_zone` names another, a location's); cleaned to its OCPI text in
    UTC, `…Z`. The zone is named in the help, so an operator knows which clock it is."""

    def __init__(self, *, note: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
        )
        super().__init__(**kwargs)
        self.note = note
        self.set_zone("UTC")

    def set_zone(self, name: str) -> None:
        """Type and show the time in the IANA zone `name` (UTC for an unknown name)."""
        zone = known_zone(name)
        self.zone: tzinfo = UTC if zone is None else zone
        self.zone_name = "UTC" if zone is None else name
        self.help_text = "; ".join(part for part in (self.zone_name, self.note) if part)

    def prepare_value(self, value: Any) -> Any:
        # Stored `2026-06-01T08:00:00Z` → the input's `2026-06-01T10:00:00` in the zone;
        # what was posted (no `Z`) is shown as typed.
        if not (isinstance(value, str) and value.endswith("Z")):
            return value
        try:
            local = parse_datetime(value).astimezone(self.zone)
        except ValueError:
            return value
        text = local.strftime("%Y-%m-%dT%H:%M:%S")
        milliseconds = local.microsecond // 1000
        return f"{text}.{milliseconds:03d}" if milliseconds else text

    def to_python(self, value: Any) -> str:
        text = str(super().to_python(value)).strip()
        if not text:
            return ""
        if len(text) == len("2026-06-01T08:00"):
            text += ":00"  # a browser leaves out zero seconds
        example = f"Enter a date and time in {self.zone_name}, e.g. 2026-06-01T08:00."
        try:
            parsed = parse_datetime(text)
        except ValueError as exc:
            raise ValidationError(example) from exc
        if text.endswith("Z"):
            return format_datetime(parsed)  # a time given in UTC stays one
        return format_datetime(self._from_wall_clock(parsed.replace(tzinfo=None)))

    def _from_wall_clock(self, wall: datetime) -> datetime:
        """The moment `wall` reads on the zone's clocks: the first of two when clocks go
        back; refused when they go forward over it (that time never shows)."""
        moment = wall.replace(tzinfo=self.zone)
        if moment.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != wall:
            raise ValidationError(
                f"{wall:%Y-%m-%d %H:%M} does not exist in {self.zone_name}: "
                "the clocks go forward over it."
            )
        return moment


def set_zone(fields: Iterable[forms.Field], zone: str) -> None:
    """Date-times in `fields`, and in the objects and rows nested in them, typed and shown
    in the IANA zone `zone`."""
    for field in fields:
        if isinstance(field, ZonedDateTimeField):
            field.set_zone(zone)
        elif isinstance(field, ObjectField | RowsField):
            assert isinstance(field.widget, ObjectWidget | RowsWidget)
            field.widget.zone = zone


def choices_with_blank(choices: Sequence[tuple[Any, str]]) -> list[tuple[Any, str]]:
    return [("", "---------"), *choices]

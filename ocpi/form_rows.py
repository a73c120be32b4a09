"""Structured admin inputs for OCPI objects: one object as a group of inputs, a list as rows.

An operator never types JSON. Each OCPI class the admin edits has a small form
(`OcpiObjectForm`) whose fields are the class's fields; `ObjectField` puts one such form into a
page's form (business details, energy mix, opening hours), `RowsField` a list of them as the
rows of a table (images, directions, regular hours…). Everything is server-side: the page
posts plain named inputs (`operator-name`, `images-0-url`, `images-TOTAL_ROWS`) and works
without script; ocpi/form_rows.js only adds an "Add a row" button that copies a blank row
(the admin's CSP runs no inline script).

These forms only turn inputs into the OCPI object (a number from its text, a DateTime in
UTC, blank inputs left out); the OCPI rules stay with the serializers, which the page's form
runs on the whole object (locations.forms.validate_into), so a rule lives once.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from ocpi.time import format_datetime, parse_datetime

# More rows than any OCPI list of a location needs; bounds the work a tampered count causes.
MAX_ROWS = 500
ROW_COUNT_SUFFIX = "TOTAL_ROWS"
REMOVE = "REMOVE"


def _unset(value: Any) -> bool:
    return value is None or value == "" or value == []


class OcpiObjectForm(forms.Form):
    """The inputs of one OCPI object; a blank input means "not set" and is left out."""

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

    def __init__(self, form_class: type[OcpiObjectForm], attrs: dict[str, Any] | None = None):
        self.form_class = form_class
        super().__init__(attrs)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> OcpiObjectForm:
        return self.form_class(data=data, files=files, prefix=name)

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
        return self.form_class(prefix=name, initial=self.form_class.initial_from(value or {}))


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
            self.form_class(data=data, files=files, prefix=f"{name}-{index}")
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
                self.form_class(prefix=f"{name}-{index}", initial=self.form_class.initial_from(obj))
                for index, obj in enumerate(value or [])
            ]
            next_index = len(rows)
        blanks = [
            self.form_class(prefix=f"{name}-{next_index + offset}") for offset in range(self.extra)
        ]
        numbered = [*((f"{number}", form) for number, form in enumerate(rows, start=1))]
        numbered += [("new", form) for form in blanks]
        context["rows"] = [
            _row(form, number, position, name)
            for position, (number, form) in enumerate(numbered, start=1)
        ]
        context["template_row"] = _row(
            self.form_class(prefix=f"{name}-__prefix__"), "new", "__prefix__", name
        )
        context["columns"] = [
            (field.label or field_name, field.help_text, _column_help_id(name, field_name))
            for field_name, field in self.form_class.base_fields.items()
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


class UtcDateTimeField(forms.CharField):
    """An OCPI DateTime (UTC) in a date-and-time input; cleaned to its OCPI text, `…Z`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        # Stored `2026-06-01T08:00:00Z` → the input's `2026-06-01T08:00:00` (UTC, labelled).
        if isinstance(value, str) and value.endswith("Z"):
            return value.removesuffix("Z")
        return value

    def to_python(self, value: Any) -> str:
        text = str(super().to_python(value)).strip()
        if not text:
            return ""
        if len(text) == len("2026-06-01T08:00"):
            text += ":00"  # a browser leaves out zero seconds
        try:
            return format_datetime(parse_datetime(text))
        except ValueError as exc:
            raise ValidationError("Enter a date and time in UTC, e.g. 2026-06-01T08:00.") from exc


def choices_with_blank(choices: Sequence[tuple[Any, str]]) -> list[tuple[Any, str]]:
    return [("", "---------"), *choices]

"""The forms of a charge point's maintenance page (chargers.admin_maintenance): one per
operation, each collecting input only; the rules of what is sent are chargers.maintenance's
and chargers.local_list's, the schema check chargers.calls'."""

import re
from typing import Any

from django import forms
from django.utils import timezone

from chargers import maintenance
from chargers.maintenance import VariableRef
from chargers.models import ChargePoint, OcppVersion

WHOLE = "0"
ATTRIBUTES = [(name, name) for name in ("Actual", "Target", "MinSet", "MaxSet")]
# component[instance]@evse/variable[instance]: one 2.0.1 variable per line of GetVariables.
VARIABLE_LINE = re.compile(
    r"(?P<component>[^/\[@]+)(?:\[(?P<ci>[^\]]+)\])?(?:@(?P<evse>\d+))?"
    r"/(?P<variable>[^\[.]+)(?:\[(?P<vi>[^\]]+)\])?(?:\.(?P<attribute>\w+))?"
)
TRIGGERS = {
    OcppVersion.V16: [
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    ],
    OcppVersion.V201: [
        "BootNotification",
        "LogStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
        "TransactionEvent",
    ],
}


class ChargePointForm(forms.Form):
    """A form about one charge point (its version and EVSEs decide some choices)."""

    def __init__(self, *args: Any, charge_point: ChargePoint, version: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.charge_point = charge_point
        self.version = version

    def evse_choices(self, whole: str) -> list[tuple[str, str]]:
        links = self.charge_point.evses.select_related("evse").order_by("ocpp_evse_id")
        unit = "connector" if self.version == OcppVersion.V16 else "EVSE"
        return [(WHOLE, whole)] + [
            (str(link.ocpp_evse_id), f"{unit} {link.ocpp_evse_id} ({link.evse.uid})")
            for link in links
        ]


def _evse(value: str) -> int | None:
    return None if value in ("", WHOLE) else int(value)


class ResetForm(ChargePointForm):
    kind = forms.ChoiceField(
        choices=[("soft", "Soft (transactions end first)"), ("hard", "Hard (at once)")]
    )


class AvailabilityForm(ChargePointForm):
    evse = forms.ChoiceField(label="EVSE")
    operative = forms.TypedChoiceField(
        choices=[("0", "Inoperative (maintenance)"), ("1", "Operative")],
        coerce=lambda value: value == "1",
        label="make it",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["evse"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = self.evse_choices("the whole charge point")

    def clean_evse(self) -> int | None:
        return _evse(self.cleaned_data["evse"])


class TriggerForm(ChargePointForm):
    message = forms.ChoiceField()
    evse = forms.ChoiceField(label="EVSE")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message, evse = self.fields["message"], self.fields["evse"]
        assert isinstance(message, forms.ChoiceField)
        assert isinstance(evse, forms.ChoiceField)
        message.choices = [(name, name) for name in TRIGGERS[OcppVersion(self.version)]]
        evse.choices = self.evse_choices("none (the charge point)")

    def clean_evse(self) -> int | None:
        return _evse(self.cleaned_data["evse"])


class GetConfigurationForm(ChargePointForm):
    keys = forms.CharField(
        required=False,
        help_text="Keys separated by spaces or commas; blank: every key it has.",
    )

    def clean_keys(self) -> list[str]:
        return [key for key in re.split(r"[\s,]+", self.cleaned_data["keys"]) if key]


class ChangeConfigurationForm(ChargePointForm):
    key = forms.CharField(max_length=50)
    value = forms.CharField(max_length=500, required=False)


class GetVariablesForm(ChargePointForm):
    variables = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: Component[instance]@evse/Variable[instance].Attribute "
        "(instance, @evse and .Attribute optional), e.g. OCPPCommCtrlr/HeartbeatInterval. "
        "Blank: the common ones.",
    )

    def clean_variables(self) -> list[VariableRef]:
        refs = []
        for line in self.cleaned_data["variables"].splitlines():
            line = line.strip()
            if not line:
                continue
            found = VARIABLE_LINE.fullmatch(line)
            if found is None:
                raise forms.ValidationError(f"Not Component/Variable: {line!r}")
            attribute = found["attribute"] or "Actual"
            if attribute not in dict(ATTRIBUTES):
                raise forms.ValidationError(f"No attribute {attribute!r}: {line!r}")
            refs.append(
                VariableRef(
                    component=found["component"].strip(),
                    variable=found["variable"].strip(),
                    attribute=attribute,
                    component_instance=found["ci"] or "",
                    variable_instance=found["vi"] or "",
                    evse_id=int(found["evse"] or 0),
                )
            )
        return refs


class SetVariableForm(ChargePointForm):
    component = forms.CharField(max_length=50)
    variable = forms.CharField(max_length=50)
    evse = forms.IntegerField(
        required=False, min_value=1, label="EVSE id", help_text="Of the component, if any."
    )
    attribute = forms.ChoiceField(choices=ATTRIBUTES, initial="Actual")
    value = forms.CharField(max_length=1000, required=False)

    def ref(self) -> VariableRef:
        data = self.cleaned_data
        return VariableRef(
            component=data["component"],
            variable=data["variable"],
            attribute=data["attribute"],
            evse_id=data["evse"] or 0,
        )


class LocationForm(ChargePointForm):
    location = forms.CharField(
        max_length=maintenance.LOCATION_MAX_LENGTH,
        help_text="URL: " + ", ".join(maintenance.LOCATION_SCHEMES) + ".",
    )
    retries = forms.IntegerField(required=False, min_value=0, max_value=100)
    retry_interval = forms.IntegerField(
        required=False, min_value=0, max_value=86400, help_text="Seconds."
    )

    def clean_location(self) -> str:
        try:
            return maintenance.check_location(self.cleaned_data["location"])
        except maintenance.InvalidLocation as exc:
            raise forms.ValidationError(str(exc)) from exc


class UpdateFirmwareForm(LocationForm):
    retrieve_at = forms.DateTimeField(
        required=False, help_text="When to download it (UTC, YYYY-MM-DD HH:MM); blank: now."
    )

    def clean_retrieve_at(self) -> Any:
        return self.cleaned_data["retrieve_at"] or timezone.now()


class UploadForm(LocationForm):
    security = forms.BooleanField(
        required=False, label="security log", help_text="GetLog only: SecurityLog."
    )


class DataTransferForm(ChargePointForm):
    vendor_id = forms.CharField(max_length=255, label="vendor id")
    message_id = forms.CharField(max_length=50, required=False, label="message id")
    content = forms.CharField(
        required=False, label="data", widget=forms.Textarea(attrs={"rows": 2})
    )


class LocalListForm(ChargePointForm):
    full = forms.BooleanField(
        required=False,
        label="full list",
        help_text="Replace its whole list; otherwise only what changed since the version it "
        "holds (a full list the first time).",
    )


class NoInputForm(ChargePointForm):
    """An operation without input (ClearCache, GetLocalListVersion)."""

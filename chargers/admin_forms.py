"""The forms of the charge point screens (chargers.admin): provisioning, a new password, the
EVSE mapping. Their rules are chargers.provisioning's; the forms only collect the input."""

import re
from typing import Any

from django import forms

from chargers import provisioning
from chargers.models import ChargePointEvse, OcppVersion, SecurityProfile


class ProvisionForm(forms.Form):
    identity = forms.CharField(
        max_length=provisioning.IDENTITY_MAX_LENGTH,
        help_text=f"Its OCPP identity, the end of its URL: {provisioning.IDENTITY_RULE}.",
    )
    evses = forms.CharField(
        label="EVSEs",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In OCPP id order (1.6 connector id, 2.0.1 EVSE id 1, 2, …), one per line: "
        "the EVSE uid, or LOCATION_ID/EVSE_UID when the uid is at several locations.",
    )
    ocpp_version = forms.ChoiceField(
        label="OCPP version", choices=OcppVersion.choices, initial=OcppVersion.V16
    )
    security_profile = forms.TypedChoiceField(
        choices=SecurityProfile.choices, coerce=int, initial=SecurityProfile.BASIC
    )
    password = forms.CharField(
        required=False,
        max_length=provisioning.PASSWORD_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Blank: a random one (none for security profile 3). Shown once, then only "
        "its hash is kept.",
    )

    def clean_evses(self) -> list[str]:
        return [ref for ref in re.split(r"[\s,]+", self.cleaned_data["evses"]) if ref]


class PasswordForm(forms.Form):
    password = forms.CharField(
        required=False,
        max_length=provisioning.PASSWORD_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Blank: a random one. Shown once, then only its hash is kept.",
    )


class ChargePointEvseForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ChargePointEvse
        fields = ["ocpp_evse_id", "evse"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        evse = cleaned.get("evse")
        if evse is not None and "evse" in self.changed_data:
            problem = provisioning.mapping_problem(evse, self.instance.charge_point_id)
            if problem:
                self.add_error("evse", problem)
        return cleaned

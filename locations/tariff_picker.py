"""The connector form's tariff picker: the tariffs of the location's party, by readable label.

A connector names its tariffs by id (Connector.tariff_ids, still the OCPI list). The picker
offers only tariffs the location's owner has (a connector may point neither at another
party's tariff nor at an id no tariff has), labelled "id · currency · one-line price
summary". The list comes from ocpi.tariff_links, where the tariffs app registers it:
locations and tariffs are sibling layers that never import each other, and a provider
registered at the tariffs app's ready() keeps the summary rule in tariffs alone (a query by
app label from here would have to retype it).
"""

from typing import Any

from django import forms

from ocpi.routing import PartyRef
from ocpi.tariff_links import tariff_choices


class TariffPickerField(forms.MultipleChoiceField):
    """Tariff ids as a multiple select; the stored list's order and spelling are kept."""

    widget = forms.SelectMultiple(attrs={"size": 6})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Tariffs")
        super().__init__(**kwargs)
        self.stored: list[str] = []

    def offer(self, party: PartyRef | None, stored: list[str]) -> None:
        """The tariffs of `party`, plus what the connector already names, as it names it."""
        self.stored = list(stored)
        offered = tariff_choices(party) if party is not None else []
        by_key = {tariff_id.upper(): (tariff_id, label) for tariff_id, label in offered}
        for tariff_id in self.stored:
            # CiStrings: the stored spelling is the option's value, so an untouched form
            # saves the list unchanged; a name without a tariff stays visible to deselect.
            _, label = by_key.get(tariff_id.upper(), (tariff_id, f"{tariff_id} · no such tariff"))
            by_key[tariff_id.upper()] = (tariff_id, label)
        self.choices = sorted(by_key.values(), key=lambda choice: choice[0].upper())
        if party is None:
            self.help_text = (
                "Choose the EVSE's location and save first: the tariffs offered are its party's."
            )
            self.error_messages["invalid_choice"] = (
                "%(value)s cannot be checked: the EVSE has no location yet."
            )
        else:
            self.help_text = f"Tariffs of {party} (Ctrl/⌘-click to pick several)."
            self.error_messages["invalid_choice"] = (
                f"%(value)s is not a tariff of {party}: create it under Tariffs first."
            )

    def clean(self, value: Any) -> list[str]:
        chosen: list[str] = super().clean(value)
        wanted = {tariff_id.upper() for tariff_id in chosen}
        kept = [tariff_id for tariff_id in self.stored if tariff_id.upper() in wanted]
        known = {tariff_id.upper() for tariff_id in kept}
        return kept + [tariff_id for tariff_id in chosen if tariff_id.upper() not in known]

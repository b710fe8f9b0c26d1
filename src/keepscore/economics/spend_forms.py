"""Forms for the spend and cash pages: they parse input; ``economics.services`` (and its
``checks``) decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from keepscore.common.numbers import decimal_parse
from keepscore.economics.checks import MAX_CAMPAIGN, MAX_NOTE
from keepscore.economics.models import MONEY_DIGITS, MONEY_PLACES
from keepscore.economics.selectors import SpendRow
from keepscore.economics.services import SpendEntry
from keepscore.leads.models import Channel

#: blank lines for a new campaign on the month's grid
NEW_CAMPAIGNS = 2


class AmountField(forms.DecimalField):
    """Money as people type it: ``1234.5``, ``1,234.50``, ``1.234,50``, ``€ 12``
    (``keepscore.common.numbers.decimal_parse``), at most two decimals."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_PLACES)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 9}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not text:
            return None
        number = decimal_parse(text) if "\x00" not in text else None
        if number is None:
            raise ValidationError(f"{text[:40]!r} is not a number.", code="invalid")
        return number


def _month_input() -> forms.TextInput:
    return forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "size": 8})


class MonthPickForm(forms.Form):
    month = forms.CharField(max_length=10, required=False, widget=_month_input())


class SpendMonthForm(forms.Form):
    """One month's grid: an amount per active channel (its spend outside campaigns), one per
    campaign row the month has, and a few blank lines for a new campaign. An empty amount
    clears that cell."""

    def __init__(
        self,
        data: Any = None,
        *,
        channels: list[Channel],
        campaigns: list[SpendRow],
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.channels = channels
        self.campaign_rows = campaigns
        for channel in channels:
            self.fields[f"amount__{channel.key}"] = AmountField(required=False, label=channel.name)
        for row in campaigns:
            self.fields[f"campaign__{row.id}"] = AmountField(
                required=False, label=f"{row.channel_name}: {row.campaign}"
            )
        choices = [("", "—"), *[(c.key, c.name) for c in channels]]
        for n in range(1, NEW_CAMPAIGNS + 1):
            self.fields[f"new{n}_channel"] = forms.ChoiceField(
                choices=choices, required=False, label="Channel"
            )
            self.fields[f"new{n}_campaign"] = forms.CharField(
                max_length=MAX_CAMPAIGN, required=False, label="Campaign"
            )
            self.fields[f"new{n}_amount"] = AmountField(required=False, label="Amount")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, NEW_CAMPAIGNS + 1):
            channel = data.get(f"new{n}_channel")
            campaign = (data.get(f"new{n}_campaign") or "").strip()
            amount = data.get(f"new{n}_amount")
            if not (channel or campaign or amount is not None):
                continue
            if not channel:
                self.add_error(f"new{n}_channel", "Choose the campaign's channel.")
            if not campaign:
                self.add_error(f"new{n}_campaign", "Name the campaign.")
            if amount is None:
                self.add_error(f"new{n}_amount", "Enter the campaign's spend.")
        return data

    def channel_rows(self) -> list[tuple[Channel, Any, list[tuple[SpendRow, Any]]]]:
        """Per channel: its amount field and its campaign rows with their fields."""
        out = []
        for channel in self.channels:
            rows = [
                (r, self[f"campaign__{r.id}"])
                for r in self.campaign_rows
                if r.channel == channel.key
            ]
            out.append((channel, self[f"amount__{channel.key}"], rows))
        return out

    def new_rows(self) -> list[tuple[Any, Any, Any]]:
        return [
            (self[f"new{n}_channel"], self[f"new{n}_campaign"], self[f"new{n}_amount"])
            for n in range(1, NEW_CAMPAIGNS + 1)
        ]

    def entries(self) -> dict[str, SpendEntry]:
        """The cells to set (or clear), keyed by the field that holds each."""
        data = self.cleaned_data
        out: dict[str, SpendEntry] = {}
        for channel in self.channels:
            name = f"amount__{channel.key}"
            out[name] = SpendEntry(channel, "", data.get(name))
        for row in self.campaign_rows:
            name = f"campaign__{row.id}"
            out[name] = SpendEntry(row.channel, row.campaign, data.get(name))
        for n in range(1, NEW_CAMPAIGNS + 1):
            amount = data.get(f"new{n}_amount")
            if data.get(f"new{n}_channel") and amount is not None:
                out[f"new{n}_amount"] = SpendEntry(
                    data[f"new{n}_channel"], data.get(f"new{n}_campaign") or "", amount
                )
        return out


class SpendUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or XLSX file",
        help_text="Columns month (YYYY-MM), channel (key or name), amount; campaign and note "
        "are optional.",
    )
    dry_run = forms.BooleanField(label="Only check (write nothing)", required=False, initial=False)


class CashForm(forms.Form):
    month = forms.CharField(max_length=10, widget=_month_input(), help_text="YYYY-MM")
    cash_on_hand = AmountField(label="Cash on hand", help_text="May be negative (overdraft).")
    monthly_fixed_costs = AmountField(
        label="Monthly fixed costs",
        min_value=0,
        help_text="What the business spends every month whatever it sells: rent, salaries, …",
    )
    note = forms.CharField(max_length=MAX_NOTE, required=False)

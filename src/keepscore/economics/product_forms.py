"""Forms of the "Products & margin" settings page: they parse; ``economics.products`` decides."""

from __future__ import annotations

from typing import Any

from django import forms

from keepscore.common import money


class ProductForm(forms.Form):
    name = forms.CharField(
        label="Product or service",
        max_length=200,
        error_messages={"required": "A product needs a name."},
    )
    price = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text="The list price of one unit.",
        error_messages={"required": "A product needs its price."},
    )
    cost = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="What one unit costs us to deliver. Empty: the default margin gives it.",
    )
    active = forms.BooleanField(
        label="Sold",
        required=False,
        initial=True,
        help_text="Retired products are kept with their deals but not offered for new ones.",
    )


class MarginForm(forms.Form):
    default_margin_pct = forms.DecimalField(
        label="Default margin (%)",
        max_digits=5,
        decimal_places=2,
        min_value=-100,
        max_value=100,
        required=False,
        help_text="A won deal entered without a cost, and a product without a cost, cost "
        "revenue x (1 - default margin). Empty: no default margin.",
    )


class _CodeField(forms.ChoiceField):
    """A choice typed in any case, with spaces around (``" eur"`` is EUR)."""

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).strip().upper()


class MoneyFormatForm(forms.Form):
    """The organization's currency and number format (checked again by the service)."""

    currency = _CodeField(
        label="Currency",
        help_text="ISO 4217, e.g. EUR, USD, GBP, CHF. Amounts are not converted: this says "
        "what they are in.",
    )
    number_locale = forms.ChoiceField(
        label="Number format",
        help_text="Where the currency sign goes and what separates thousands and decimals.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = money.currency_choices()
        currency.error_messages["invalid_choice"] = (
            "“%(value)s” is not an ISO 4217 currency code: choose one such as EUR, USD, GBP or CHF."
        )
        number_locale = self.fields["number_locale"]
        assert isinstance(number_locale, forms.ChoiceField)
        number_locale.choices = money.locale_choices()
        number_locale.error_messages["invalid_choice"] = (
            "“%(value)s” is not one of the number formats offered: choose one from the list."
        )

"""Forms of the "Products & margin" settings page: they parse; ``economics.products`` decides."""

from __future__ import annotations

from django import forms


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

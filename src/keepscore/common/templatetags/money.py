"""``{{ amount|money }}``: an amount in the organization's currency (keepscore.common.money).

``{{ x|money }}`` rounds as ``format_value`` does (whole units from 100 up),
``{{ x|money:2 }}`` always shows cents, ``{{ x|money:0 }}`` whole units. None shows "—".
The organization is the page's (``org_view`` activates it).
"""

from __future__ import annotations

from decimal import Decimal

from django import template

from keepscore.common.money import money_format

register = template.Library()


@register.filter
def money(amount: Decimal | float | int | None, decimals: int | str | None = None) -> str:
    if amount is None or amount == "":
        return "\u2014"
    places = None if decimals is None or decimals == "" else int(decimals)
    return money_format(amount, decimals=places)

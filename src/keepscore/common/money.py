"""Money as people read it: in the organization's currency, written as its locale writes it.

Every amount a person reads — pages, the PDF, the command line, e-mails — goes through
``money_format`` (the ``money`` template filter and ``format_value(x, "money")`` call it).
Babel (CLDR) decides where the sign goes and what separates thousands and decimals:
``€1,234.50`` in en_IE, ``1.234,50 €`` in de_DE, ``1 234,50 €`` in fr_FR. Values kept for
machines (the API, CSV, the cells of an XLSX) stay plain numbers.

Which currency: the organization's own (``Organization.currency`` and
``Organization.number_locale``). Code that formats deep inside a report does not carry the
organization; the page, the command or the PDF that shows it *activates* the organization's
money format first (``money_override(organization)``), as Django activates a language. With
none active, the settings' defaults (``KEEPSCORE_CURRENCY``, ``KEEPSCORE_LOCALE``) apply.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import TYPE_CHECKING, Protocol

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_compact_currency,
    get_currency_name,
    get_currency_precision,
    get_currency_symbol,
    list_currencies,
    parse_pattern,
)
from django.conf import settings
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from babel.numbers import NumberPattern
    from django.http import HttpRequest, HttpResponse

#: the number formats an owner chooses from (a locale writes money its own way)
LOCALES = (
    "en_IE",
    "en_GB",
    "en_US",
    "en_CA",
    "en_AU",
    "en_NZ",
    "en_IN",
    "en_ZA",
    "de_DE",
    "de_AT",
    "de_CH",
    "fr_FR",
    "fr_BE",
    "fr_CA",
    "fr_CH",
    "nl_NL",
    "nl_BE",
    "es_ES",
    "es_MX",
    "it_IT",
    "pt_PT",
    "pt_BR",
    "sv_SE",
    "da_DK",
    "nb_NO",
    "fi_FI",
    "pl_PL",
    "cs_CZ",
    "ja_JP",
)

_CODE = re.compile(r"[A-Z]{3}")


class HasMoney(Protocol):
    currency: str
    number_locale: str


@dataclass(frozen=True)
class MoneyFormat:
    currency: str  # ISO 4217, e.g. "EUR"
    locale: str  # e.g. "de_DE"


def default_format() -> MoneyFormat:
    return MoneyFormat(default_currency(), default_locale())


def default_currency() -> str:
    """A new organization's currency: ``KEEPSCORE_CURRENCY`` (EUR unless set)."""
    return str(settings.KEEPSCORE_CURRENCY)


def default_locale() -> str:
    """A new organization's number format: ``KEEPSCORE_LOCALE`` (en_IE unless set)."""
    return str(settings.KEEPSCORE_LOCALE)


_active: ContextVar[MoneyFormat | None] = ContextVar("keepscore_money", default=None)


def format_of(organization: HasMoney | MoneyFormat | None = None) -> MoneyFormat:
    """The organization's money format; the active one without an organization."""
    if isinstance(organization, MoneyFormat):
        return organization
    if organization is not None:
        return MoneyFormat(organization.currency, organization.number_locale)
    return _active.get() or default_format()


def money_activate(organization: HasMoney | MoneyFormat) -> Token[MoneyFormat | None]:
    """Make the organization's money format the one used when none is named; give the token
    to ``money_deactivate`` when done."""
    return _active.set(format_of(organization))


def money_deactivate(token: Token[MoneyFormat | None]) -> None:
    _active.reset(token)


@contextmanager
def money_override(organization: HasMoney | MoneyFormat) -> Iterator[MoneyFormat]:
    token = money_activate(organization)
    try:
        yield format_of(organization)
    finally:
        money_deactivate(token)


def money_scope_start() -> MoneyFormat | None:
    """What is active now, to put back with ``money_scope_end`` (a command line's run)."""
    return _active.get()


def money_scope_end(before: MoneyFormat | None) -> Callable[[], None]:
    """A function that makes ``before`` the active money format again."""

    def end() -> None:
        _active.set(before)

    return end


class MoneyMiddleware:
    """Each request starts with no organization's money format and ends leaving none; the
    organization's pages (``org_view``) and the API's token activate their own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _active.set(None)
        try:
            return self.get_response(request)
        finally:
            _active.reset(token)


# ---------------------------------------------------------------- formatting


@cache
def _pattern(locale: str, decimals: int) -> NumberPattern:
    pattern = copy.copy(parse_pattern(Locale.parse(locale).currency_formats["standard"]))
    pattern.frac_prec = (decimals, decimals)
    return pattern


def auto_decimals(amount: Decimal | float) -> int:
    """Whole units from 100 up and for whole amounts (1,234 and 12), cents below (12.50):
    the rounding every money figure had before it had a currency."""
    number = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    return 0 if abs(number) >= 100 or number == number.to_integral_value() else 2


def money_format(
    amount: Decimal | float | int | None,
    organization: HasMoney | MoneyFormat | None = None,
    *,
    decimals: int | None = None,
    signed: bool = False,
    short: bool = False,
    none: str = "\u2014",
) -> str:
    """``amount`` in the organization's currency as its locale writes it.

    ``decimals``: 2 (cents), 0 (whole units) or None: whole units from 100 up, else cents
    (never more than the currency has: a yen has none). Rounding is half up. ``signed``
    puts ``+`` before a positive amount (a change); ``short`` is compact (``€12K``) for
    axis labels. None reads ``none`` (an em dash).
    """
    if amount is None:
        return none
    fmt = format_of(organization)
    number = amount if isinstance(amount, Decimal) else Decimal(repr(float(amount)))
    if not number.is_finite():
        return none
    if short:
        text = format_compact_currency(
            float(number), fmt.currency, locale=fmt.locale, fraction_digits=1
        )
    else:
        places = auto_decimals(number) if decimals is None else decimals
        places = min(places, get_currency_precision(fmt.currency))
        exact = number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        if exact == 0:
            exact = abs(exact)  # never "-€0"
        text = _pattern(fmt.locale, places).apply(
            exact, Locale.parse(fmt.locale), currency=fmt.currency, currency_digits=False
        )
    if signed and number > 0:
        text = "+" + text
    return text


def currency_symbol(organization: HasMoney | MoneyFormat | None = None) -> str:
    fmt = format_of(organization)
    return get_currency_symbol(fmt.currency, locale=fmt.locale)


def xlsx_number_format(
    organization: HasMoney | MoneyFormat | None = None, *, signed: bool = False
) -> str:
    """An Excel number format for a money cell: the value stays a number, the cell shows the
    currency where the locale puts it (``"€"#,##0.00`` or ``#,##0.00 " €"``); Excel writes
    the separators as the reader's computer does. ``signed``: ``+`` before a positive one (a
    change)."""
    fmt = format_of(organization)
    pattern = _pattern(fmt.locale, 2)
    symbol = currency_symbol(fmt).replace('"', "")
    before = pattern.prefix[0].replace("\u00a4", f'"{symbol}"').replace("\u00a0", " ")
    after = pattern.suffix[0].replace("\u00a4", f'"{symbol}"').replace("\u00a0", " ")
    places = get_currency_precision(fmt.currency)
    number = "#,##0" + ("." + "0" * places if places else "")
    positive = f"{before}{number}{after}"
    if signed:
        return f"+{positive};-{positive};{positive}"
    return f"{positive};-{positive}"


# ---------------------------------------------------------------- choices and checks


@cache
def currency_choices() -> tuple[tuple[str, str], ...]:
    """(code, "EUR \u2013 Euro") for every ISO 4217 currency Babel knows, by code."""
    return tuple(
        (code, f"{code} \u2013 {get_currency_name(code, locale='en')}")
        for code in sorted(list_currencies())
        if _CODE.fullmatch(code)
    )


@cache
def locale_choices() -> tuple[tuple[str, str], ...]:
    """(locale, "German (Germany): 1.234,50 €") for each number format offered."""
    return tuple(
        (code, f"{Locale.parse(code).get_display_name('en')}: {_example(code)}") for code in LOCALES
    )


def _example(locale: str) -> str:
    return money_format(Decimal("1234.50"), MoneyFormat("EUR", locale), decimals=2)


def currency_clean(value: object) -> str:
    """An ISO 4217 code (any case, spaces around) → its upper-case code; else a clear error."""
    code = str(value if value is not None else "").strip().upper()
    if not _CODE.fullmatch(code) or code not in dict(currency_choices()):
        shown = str(value)[:20]
        raise ValidationError(
            {
                "currency": f"“{shown}” is not an ISO 4217 currency code: use three letters "
                "such as EUR, USD, GBP or CHF."
            }
        )
    return code


def locale_clean(value: object) -> str:
    """A number format from ``LOCALES`` (``de_DE``, ``de-DE`` or ``de_de``) → its name."""
    text = str(value if value is not None else "").strip().replace("-", "_")
    wanted = {code.lower(): code for code in LOCALES}
    code = wanted.get(text.lower())
    if code is None:
        try:
            Locale.parse(text)
            reason = "is not one of the number formats offered"
        except (UnknownLocaleError, ValueError, TypeError):
            reason = "is not a locale"
        raise ValidationError(
            {
                "number_locale": f"“{str(value)[:20]}” {reason}: use one of "
                + ", ".join(LOCALES)
                + "."
            }
        )
    return code

"""Money in the organization's currency (keepscore.common.money): the formatting against
Babel's documented outputs written out by hand, the owner's settings form and the API's
money settings, the pages, the XLSX cells, the scorecard PDF and the command line."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from typer.testing import CliRunner

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add, money_format_set
from keepscore.cli.main import app
from keepscore.common.money import (
    MoneyFormat,
    currency_clean,
    format_of,
    money_format,
    money_override,
    money_scope_end,
    xlsx_number_format,
)
from keepscore.leads.models import Lead
from keepscore.reports.charts import format_value
from tests.api.conftest import api_for
from tests.conftest import PASSWORD, make_org, make_user
from tests.funnel.conftest import at, move, new_lead

NBSP = "\u00a0"
NNBSP = "\u202f"  # French groups thousands with a narrow no-break space

USD_US = MoneyFormat("USD", "en_US")
EUR_DE = MoneyFormat("EUR", "de_DE")
EUR_FR = MoneyFormat("EUR", "fr_FR")


# ---------------------------------------------------------------- the formatting


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        # Babel's documentation: format_currency(1099.98, 'USD', locale='en_US') == '$1,099.98'
        (USD_US, "$1,099.98"),
        # format_currency(1099.98, 'EUR', locale='de_DE') == '1.099,98\xa0€'
        (EUR_DE, f"1.099,98{NBSP}€"),
        # French: narrow no-break space between thousands, comma, no-break space, sign
        (EUR_FR, f"1{NNBSP}099,98{NBSP}€"),
        (MoneyFormat("EUR", "en_IE"), "€1,099.98"),
        (MoneyFormat("GBP", "en_GB"), "£1,099.98"),
    ],
)
def test_cents_as_each_locale_writes_them(fmt: MoneyFormat, expected: str) -> None:
    assert money_format(Decimal("1099.98"), fmt, decimals=2) == expected


def test_the_rounding_is_the_same_as_before_whole_units_from_100() -> None:
    # from 100 up (and whole amounts) in whole units, below 100 in cents; half up
    assert money_format(Decimal("1234.50"), USD_US) == "$1,235"
    assert money_format(Decimal("1234.49"), USD_US) == "$1,234"
    assert money_format(Decimal("12.5"), USD_US) == "$12.50"
    assert money_format(Decimal("12"), USD_US) == "$12"
    assert money_format(Decimal("0.125"), USD_US, decimals=2) == "$0.13"  # half up, not even
    assert money_format(Decimal("2.5"), USD_US, decimals=0) == "$3"
    assert money_format(Decimal("1234.5"), EUR_DE) == f"1.235{NBSP}€"
    assert money_format(-12.5, EUR_DE) == f"-12,50{NBSP}€"
    assert money_format(-12.5, USD_US) == "-$12.50"
    assert money_format(Decimal("-0.001"), USD_US, decimals=0) == "$0"  # never "-$0"
    assert money_format(Decimal("-0.004"), USD_US) == "$0.00"
    assert money_format(None, USD_US) == "\u2014"
    # a yen has no cents, whatever is asked
    assert money_format(Decimal("1234.5"), MoneyFormat("JPY", "ja_JP"), decimals=2) == "￥1,235"
    # a change is signed
    assert money_format(Decimal("5"), EUR_DE, signed=True) == f"+5{NBSP}€"
    assert money_format(Decimal("-5"), EUR_DE, signed=True) == f"-5{NBSP}€"


def test_format_value_uses_the_active_organization_and_the_defaults_without_one(
    settings: pytest.FixtureRequest,
) -> None:
    money_scope_end(None)()  # nothing active, as in a fresh process
    settings.KEEPSCORE_CURRENCY = "GBP"  # type: ignore[attr-defined]
    settings.KEEPSCORE_LOCALE = "en_GB"  # type: ignore[attr-defined]
    assert format_value(1200.0, "money") == "£1,200"
    with money_override(EUR_DE):
        assert format_value(1200.0, "money") == f"1.200{NBSP}€"
        assert format_value(1200.0, "money", signed=True) == f"+1.200{NBSP}€"
        assert format_value(1200.0, "count") == "1,200"  # counts carry no currency
        assert format_value(None, "money") == "\u2014"
    assert format_value(1200.0, "money") == "£1,200"


def test_xlsx_number_format_puts_the_sign_where_the_locale_does() -> None:
    assert xlsx_number_format(USD_US) == '"$"#,##0.00;-"$"#,##0.00'
    assert xlsx_number_format(EUR_DE) == '#,##0.00 "€";-#,##0.00 "€"'
    assert xlsx_number_format(EUR_DE, signed=True) == '+#,##0.00 "€";-#,##0.00 "€";#,##0.00 "€"'


def test_a_bad_currency_code_is_a_clear_error() -> None:
    assert currency_clean(" usd ") == "USD"
    for bad in ("XYZ", "EURO", "", "€", "12"):
        with pytest.raises(ValidationError) as error:
            currency_clean(bad)
        assert "is not an ISO 4217 currency code" in error.value.message_dict["currency"][0]


# ---------------------------------------------------------------- settings: page and API


def _client(email: str) -> Client:
    client = Client()
    assert client.login(username=email, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_a_new_organization_has_the_default_currency(org_a: Organization) -> None:
    assert (org_a.currency, org_a.number_locale) == ("EUR", "en_IE")


@pytest.mark.django_db
def test_the_owner_sets_the_currency_on_the_products_page(org_a: Organization) -> None:
    client = _client("owner@acme.test")
    page = reverse("settings_products", kwargs={"org": org_a.slug})
    assert "€1,234.50" in client.get(page).content.decode()
    url = reverse("settings_currency", kwargs={"org": org_a.slug})
    response = client.post(url, {"currency": "usd", "number_locale": "en_US"}, follow=True)
    org_a.refresh_from_db()
    assert (org_a.currency, org_a.number_locale) == ("USD", "en_US")
    assert "Currency set: USD, written $1,234.50." in response.content.decode()
    client.post(url, {"currency": "EUR", "number_locale": "de_DE"})
    html = client.get(page).content.decode()
    assert f"1.234,50{NBSP}€" in html.replace("&nbsp;", NBSP)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"currency": "XYZ", "number_locale": "de_DE"}, "currency", "is not an ISO 4217"),
        ({"currency": "", "number_locale": "de_DE"}, "currency", "This field is required"),
        ({"currency": "EUR", "number_locale": "xx_YY"}, "number_locale", "not one of the"),
    ],
)
def test_a_bad_currency_or_format_is_shown_on_the_form_and_nothing_changes(
    org_a: Organization, posted: dict[str, str], field: str, message: str
) -> None:
    client = _client("owner@acme.test")
    url = reverse("settings_currency", kwargs={"org": org_a.slug})
    response = client.post(url, posted)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert f'name="{field}"' in html
    org_a.refresh_from_db()
    assert (org_a.currency, org_a.number_locale) == ("EUR", "en_IE")


@pytest.mark.django_db
def test_only_owners_set_the_currency(org_a: Organization) -> None:
    member_add(organization=org_a, user=make_user("sales@acme.test"), is_sales=True)
    client = _client("sales@acme.test")
    url = reverse("settings_currency", kwargs={"org": org_a.slug})
    assert client.post(url, {"currency": "USD", "number_locale": "en_US"}).status_code == 403
    org_a.refresh_from_db()
    assert org_a.currency == "EUR"


@pytest.mark.django_db
def test_the_service_refuses_both_bad_fields_at_once(org_a: Organization) -> None:
    with pytest.raises(ValidationError) as error:
        money_format_set(organization=org_a, currency="ABCD", number_locale="klingon")
    assert set(error.value.message_dict) == {"currency", "number_locale"}
    org_a.refresh_from_db()
    assert org_a.currency == "EUR"


@pytest.mark.django_db
def test_the_api_reads_and_sets_the_currency_and_keeps_money_plain(
    org_a: Organization, owner_a: Membership, sales_a: Membership
) -> None:
    api = api_for(owner_a)
    body = api.get("/money-settings").json()
    assert body["currency"] == "EUR"
    assert body["number_locale"] == "en_IE"
    assert body["example"] == "€1,234.50"
    response = api.put("/money-settings", {"currency": "chf", "number_locale": "de-CH"})
    assert response.status_code == 200, response.content
    assert response.json()["currency"] == "CHF"
    assert response.json()["number_locale"] == "de_CH"
    assert response.json()["example"] == f"CHF{NBSP}1'234.50"
    bad = api.put("/money-settings", {"currency": "XYZ", "default_margin_pct": "30"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "currency"
    org_a.refresh_from_db()
    assert org_a.currency == "CHF"
    assert api.get("/money-settings").json()["default_margin_pct"] is None  # nothing written
    # members read it; only owners change it
    member = api_for(sales_a)
    assert member.get("/money-settings").json()["currency"] == "CHF"
    assert member.put("/money-settings", {"currency": "USD"}).status_code == 403

    # money stays a plain decimal string; the currency says what it is in
    lead = new_lead(org_a, "Won", at(2025, 3, 3))
    move(lead, "customer", at(2025, 3, 10), owner_a, revenue="1234.50", cost="234.50")
    outcome = api.get("/outcomes").json()["items"][0]
    assert (outcome["revenue"], outcome["margin"]) == ("1234.50", "1000.00")
    card = api.get("/scorecard/2025-03").json()
    assert card["currency"] == "CHF"
    revenue = next(m for m in card["metrics"] if m["key"] == "revenue")
    assert revenue["value"] == 1234.5
    economics = api.get("/economics", **{"from": "2025-03-01", "to": "2025-03-31"}).json()
    assert economics["currency"] == "CHF"
    assert economics["total"]["revenue"] == 1234.5


# ---------------------------------------------------------------- pages, files, CLI


@pytest.fixture
def two(db: object) -> tuple[Organization, Organization]:
    """Two organizations, each with one deal won on 10 March 2025 (1,234.50 revenue, 234.50
    cost) and one today: one in euros written as in Germany, one in dollars as in the US."""
    made = []
    for slug, currency, locale in (("euro", "EUR", "de_DE"), ("dollar", "USD", "en_US")):
        org, owner = make_org(slug, f"owner@{slug}.test")
        money_format_set(organization=org, currency=currency, number_locale=locale)
        lead = new_lead(org, "March", at(2025, 3, 3))
        move(lead, "customer", at(2025, 3, 10), owner, revenue="1234.50", cost="234.50")
        lead = new_lead(org, "Today", timezone.now() - timedelta(hours=1))
        move(lead, "customer", timezone.now() - timedelta(minutes=5), owner, revenue="4321.50")
        made.append(org)
    return made[0], made[1]


def _text(response: object) -> str:
    html = response.content.decode()  # type: ignore[attr-defined]
    return re.sub(r"\s+", " ", html.replace("&nbsp;", NBSP).replace(NBSP, " "))


def _pages(org: Organization) -> dict[str, str]:
    march = {"org": org.slug, "year": 2025, "month": 3}
    economics = reverse("economics", kwargs={"org": org.slug})
    return {
        "scorecard": reverse("scorecard_month", kwargs=march),
        "economics": economics + "?from=2025-03-01&to=2025-03-31",
        "dashboard": reverse("dashboard", kwargs={"org": org.slug}),
    }


@pytest.mark.django_db
def test_the_pages_show_each_organizations_currency(two: tuple[Organization, ...]) -> None:
    euro, dollar = two
    for org, march, today in ((euro, "1.235 €", "4.322 €"), (dollar, "$1,235", "$4,322")):
        client = _client(f"owner@{org.slug}.test")
        for name, url in _pages(org).items():
            response = client.get(url)
            assert response.status_code == 200
            # the scorecard and economics of March 2025; the dashboard's month is this one
            assert (today if name == "dashboard" else march) in _text(response), (org, name)
        # the lead's page: the deal's revenue, cost and margin in cents
        lead = Lead.objects.get(organization=org, name="March")
        page = _text(client.get(reverse("lead_detail", kwargs={"org": org.slug, "pk": lead.pk})))
        cents, margin = ("1.234,50 €", "1.000,00 €") if org is euro else ("$1,234.50", "$1,000.00")
        assert f"Won: revenue {cents}" in page
        assert f"margin {margin}" in page
    # the requests left no organization's format behind
    assert format_of() == MoneyFormat("EUR", "en_IE")


@pytest.mark.django_db
def test_the_xlsx_cells_stay_numbers_with_the_currency_format(
    two: tuple[Organization, ...],
) -> None:
    euro, dollar = two
    for org, sign in ((euro, '"€"'), (dollar, '"$"')):
        client = _client(f"owner@{org.slug}.test")
        url = reverse("export_download", kwargs={"org": org.slug})
        response = client.get(url, {"kind": "outcomes", "format": "xlsx"})
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        sheet = book.active
        header = [c.value for c in sheet[1]]
        march = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("revenue")].value)
        revenue = march[header.index("revenue")]
        assert isinstance(revenue.value, int | float)
        assert sign in revenue.number_format
        assert sign in march[header.index("margin")].number_format
        assert sign not in march[header.index("id")].number_format
        # the scorecard's workbook: the revenue row's money cells
        url = reverse(
            "scorecard_export", kwargs={"org": org.slug, "year": 2025, "month": 3, "ext": "xlsx"}
        )
        book = load_workbook(io.BytesIO(client.get(url).content))
        sheet = book["Scorecard"]
        row = next(r for r in sheet.iter_rows() if r[1].value == "revenue")
        assert row[3].value == 1234.5
        assert sign in row[3].number_format
        assert row[5].number_format.startswith("+")
        assert sign in row[5].number_format
    assert '#,##0.00 "€"' in xlsx_number_format(euro)


@pytest.mark.django_db
def test_the_scorecard_pdf_shows_the_currency(two: tuple[Organization, ...]) -> None:
    from pypdf import PdfReader

    from keepscore.reports.scorecard import scorecard_pdf
    from keepscore.scorecard.compute import scorecard_for

    euro, _dollar = two
    card = scorecard_for(euro, at(2025, 3, 1).date())
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(scorecard_pdf(card))).pages)
    text = re.sub(r"\s+", " ", text.replace(NBSP, " "))
    assert "1.235 €" in text
    assert "$" not in text


@pytest.mark.django_db
def test_the_command_line_writes_the_organizations_currency(
    two: tuple[Organization, ...],
) -> None:
    runner = CliRunner()
    spend = ["--month", "2025-03", "--channel", "ads", "--amount", "1200.5"]
    result = runner.invoke(app, ["spend", "set", "--org", "euro", *spend])
    assert result.exit_code == 0, result.output
    assert "1.200,50 €" in result.output.replace(NBSP, " ")
    march = ["--from", "2025-03-01", "--to", "2025-03-31"]
    result = runner.invoke(app, ["economics", "--org", "dollar", *march])
    assert result.exit_code == 0, result.output
    assert "$1,000" in result.output  # the margin of March
    # the command's organization did not stay active after it
    assert format_of() == MoneyFormat("EUR", "en_IE")

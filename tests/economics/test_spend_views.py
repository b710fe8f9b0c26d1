"""The Sources & spend and Cash pages: the grid, the year's table, upload, export, cash;
who may edit; bad input refused with nothing changed."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from keepscore.economics.models import CashPosition, Spend
from keepscore.economics.services import cash_set, spend_set
from tests.conftest import channel

pytestmark = pytest.mark.django_db


def url(org: Any, name: str) -> str:
    return reverse(name, kwargs={"org": org.slug})


def rows(org: Any) -> list[tuple[Any, ...]]:
    return sorted(
        Spend.objects.for_org(org).values_list("month", "channel__key", "campaign", "amount")
    )


def blank_grid(org: Any) -> dict[str, str]:
    from keepscore.leads.models import Channel

    data = {f"amount__{c.key}": "" for c in Channel.objects.for_org(org).filter(active=True)}
    for n in (1, 2):
        data.update({f"new{n}_channel": "", f"new{n}_campaign": "", f"new{n}_amount": ""})
    return data


@pytest.fixture
def marketing_a(org_a: Any) -> Any:
    from keepscore.accounts.services import member_add
    from tests.conftest import make_user

    return member_add(organization=org_a, user=make_user("mkt@acme.test"), is_marketing=True)


def test_the_grid_and_the_year_table(client_a, org_a):
    spend_set(organization=org_a, month="2026-03", channel="ads", amount="1200")
    spend_set(
        organization=org_a, month="2026-03", channel="ads", amount="300.50", campaign="Spring promo"
    )
    spend_set(organization=org_a, month="2026-04", channel="referral", amount="50")
    page = client_a.get(url(org_a, "spend"), {"month": "2026-03"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="amount__ads"' in html and 'value="1200.00"' in html
    assert "Spring promo" in html and 'value="300.50"' in html
    assert re.search(r'data-total="month">€1,500.50<', html)  # 1200 + 300.50
    assert re.search(r'data-total="year"><strong>€1,551<', html)  # 1200 + 300.50 + 50 rounded
    assert 'aria-current="page">Spend</a>' in html


def test_saving_the_month(client_a, org_a, owner_a):
    spend_set(organization=org_a, month="2026-03", channel="search", amount="80")
    data = {
        **blank_grid(org_a),
        "amount__ads": "1,200.50",
        "amount__search": "",  # cleared
        "new1_channel": "email",
        "new1_campaign": "Newsletter",
        "new1_amount": "45",
    }
    response = client_a.post(url(org_a, "spend") + "?month=2026-03", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert rows(org_a) == [
        (date(2026, 3, 1), "ads", "", Decimal("1200.50")),
        (date(2026, 3, 1), "email", "Newsletter", Decimal(45)),
    ]
    campaign = Spend.objects.for_org(org_a).get(campaign="Newsletter")
    assert campaign.by == owner_a.user
    # the campaign now has its own line on the grid
    data = {**blank_grid(org_a), "amount__ads": "1200.50", f"campaign__{campaign.pk}": "60"}
    assert client_a.post(url(org_a, "spend") + "?month=2026-03", data).status_code == 302
    assert rows(org_a)[1] == (date(2026, 3, 1), "email", "Newsletter", Decimal(60))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount__ads", "-5", "Spend cannot be negative"),  # the service, at its cell
        ("amount__ads", "12.345", "2 decimal places"),
        ("amount__ads", "lots", "is not a number"),
        ("new1_amount", "10", "Choose the campaign"),
    ],
)
def test_a_bad_cell_is_refused_and_nothing_changes(client_a, org_a, field, value, message):
    spend_set(organization=org_a, month="2026-03", channel="referral", amount="5")
    before = rows(org_a)
    data = {**blank_grid(org_a), "amount__referral": "99", field: value}
    response = client_a.post(url(org_a, "spend") + "?month=2026-03", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html and 'value="99"' in html  # what was typed is kept
    assert rows(org_a) == before


def test_a_forged_month_is_refused(client_a, org_a):
    response = client_a.post(url(org_a, "spend") + "?month=2026-13", blank_grid(org_a))
    assert response.status_code == 403
    page = client_a.get(url(org_a, "spend"), {"month": "2026-13"})
    assert page.status_code == 200 and "01 to 12" in page.content.decode()


def test_sales_members_read_but_do_not_edit(client, org_a, sales_a, marketing_a):
    spend_set(organization=org_a, month="2026-03", channel="ads", amount="1200")
    client.force_login(sales_a.user)
    page = client.get(url(org_a, "spend"), {"month": "2026-03"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "1200.00" in html and 'name="amount__ads"' not in html and "Import spend" not in html
    data = {**blank_grid(org_a), "amount__ads": "1"}
    assert client.post(url(org_a, "spend") + "?month=2026-03", data).status_code == 403
    assert (
        client.post(url(org_a, "cash"), {"month": "2026-01", "cash_on_hand": "1"}).status_code
        == 403
    )
    assert client.get(url(org_a, "cash")).status_code == 200
    assert rows(org_a) == [(date(2026, 3, 1), "ads", "", Decimal(1200))]
    client.force_login(marketing_a.user)
    assert client.post(url(org_a, "spend") + "?month=2026-03", data).status_code == 302
    assert rows(org_a) == [(date(2026, 3, 1), "ads", "", Decimal(1))]


def test_upload_imports_and_reports_every_bad_row(client_a, org_a):
    bad = b"month,channel,amount\n2026-13,ads,10\n2026-01,nope,-1\n2026-02,ads,5\n"
    response = client_a.post(
        url(org_a, "spend_import"), {"file": SimpleUploadedFile("bad.csv", bad)}
    )
    assert response.status_code == 422
    html = response.content.decode()
    for line in (
        "line 2, column month: 2026-13 is not a month",
        "line 3, column channel: &#x27;nope&#x27; is not a channel",
        "line 3, column amount: Spend cannot be negative.",
    ):
        assert line in html, html
    assert "Nothing imported: 3 problems in 3 rows" in html
    assert rows(org_a) == []
    good = b"month,channel,amount\n2026-01,ads,10\n2026-02,ads,5\n"
    checked = client_a.post(
        url(org_a, "spend_import"),
        {"file": SimpleUploadedFile("good.csv", good), "dry_run": "on"},
    )
    assert checked.status_code == 200 and "no problems" in checked.content.decode()
    assert rows(org_a) == []
    done = client_a.post(url(org_a, "spend_import"), {"file": SimpleUploadedFile("good.csv", good)})
    assert done.status_code == 302
    assert rows(org_a) == [
        (date(2026, 1, 1), "ads", "", Decimal(10)),
        (date(2026, 2, 1), "ads", "", Decimal(5)),
    ]


def test_upload_of_an_empty_file_or_none(client_a, org_a):
    response = client_a.post(url(org_a, "spend_import"), {"file": SimpleUploadedFile("e.csv", b"")})
    assert response.status_code == 400  # Django refuses an empty upload at the field
    assert client_a.post(url(org_a, "spend_import"), {}).status_code == 400
    header_only = SimpleUploadedFile("h.csv", b"month,channel,amount\n")
    response = client_a.post(url(org_a, "spend_import"), {"file": header_only})
    assert response.status_code == 422 and "header but no rows" in response.content.decode()


def test_export_is_the_import_format(client_a, org_a, org_b):
    spend_set(
        organization=org_a,
        month="2026-03",
        channel="ads",
        amount="1200",
        campaign="Promo",
        note="n",
    )
    spend_set(organization=org_a, month="2025-03", channel="ads", amount="7")
    spend_set(organization=org_b, month="2026-03", channel="ads", amount="999")
    response = client_a.get(url(org_a, "spend_export"), {"year": "2026"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "spend-acme-2026.csv" in response["Content-Disposition"]
    text = response.content.decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["month", "channel", "campaign", "amount", "note"],
        ["2026-03", "ads", "Promo", "1200.00", "n"],
    ]
    everything = client_a.get(url(org_a, "spend_export"))
    assert len(everything.content.decode().splitlines()) == 3
    # a year that is not one is refused, not taken for "every year"
    refused = client_a.get(url(org_a, "spend_export"), {"year": "x"})
    assert refused.status_code == 400 and refused.content.decode() == "'x' is not a year."


def test_cash_page(client_a, org_a):
    page = client_a.get(url(org_a, "cash"))
    assert page.status_code == 200 and "No cash position yet" in page.content.decode()
    response = client_a.post(
        url(org_a, "cash"),
        {"month": "2026-02", "cash_on_hand": "10,000", "monthly_fixed_costs": "3000", "note": "ok"},
    )
    assert response.status_code == 302
    cash_set(organization=org_a, month="2026-01", cash_on_hand="-100", monthly_fixed_costs="3000")
    html = client_a.get(url(org_a, "cash")).content.decode()
    assert re.search(r"data-runway>3.3 months<", html)  # 10000 / 3000
    assert html.index("2026-02") < html.index("2026-01")  # latest first
    assert "-€100.00" in html


def test_cash_bad_input_keeps_what_was_typed(client_a, org_a):
    data = {"month": "2026-02", "cash_on_hand": "5000", "monthly_fixed_costs": "-1", "note": "x"}
    response = client_a.post(url(org_a, "cash"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "greater than or equal to 0" in html and 'value="5000"' in html
    data = {**data, "monthly_fixed_costs": "1", "month": "2999-01"}
    response = client_a.post(url(org_a, "cash"), data)
    assert response.status_code == 422 and "too far ahead" in response.content.decode()
    assert not CashPosition.objects.for_org(org_a).exists()


def test_another_organizations_spend_never_shows(client_a, org_a, org_b):
    spend_set(
        organization=org_b, month="2026-03", channel="ads", amount="4321", campaign="Bravo secret"
    )
    cash_set(organization=org_b, month="2026-03", cash_on_hand="98765", monthly_fixed_costs="1")
    for name in ("spend", "cash"):
        html = client_a.get(url(org_a, name), {"month": "2026-03"}).content.decode()
        assert "Bravo secret" not in html and "4,321" not in html and "98,765" not in html
    assert client_a.get(url(org_b, "spend")).status_code == 404
    # a campaign field naming B's row is not a field of A's grid: ignored
    theirs = Spend.objects.for_org(org_b).get()
    data = {**blank_grid(org_a), f"campaign__{theirs.pk}": "1"}
    assert client_a.post(url(org_a, "spend") + "?month=2026-03", data).status_code == 302
    assert Spend.objects.for_org(org_b).get().amount == Decimal(4321)
    assert channel(org_b, "ads").spend.count() == 1

"""Spend services: set / clear / read by hand-computed values, and the CSV importer with
malformed files (each refused with its line, column and reason, nothing written)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.common.months import month_add as add_months
from keepscore.economics.models import Spend
from keepscore.economics.selectors import spend_for, spend_get
from keepscore.economics.services import (
    SpendEntry,
    spend_clear,
    spend_delete,
    spend_month_set,
    spend_set,
)
from keepscore.imports.spend import spend_import
from keepscore.leads.settings_services import channel_save
from tests.conftest import channel

pytestmark = pytest.mark.django_db


def rows(org: Any) -> list[tuple[Any, ...]]:
    return sorted(
        Spend.objects.for_org(org).values_list(
            "month", "channel__key", "campaign", "amount", "note"
        )
    )


def write(tmp_path: Path, text: str | bytes, name: str = "spend.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- spend_set ----------------------------------------------------------------------------


def test_set_then_set_again_replaces(org_a, owner_a):
    row = spend_set(
        organization=org_a, month="2026-03", channel="ads", amount="1,234.50", by=owner_a
    )
    assert (row.month, row.amount, row.by) == (date(2026, 3, 1), Decimal("1234.50"), owner_a.user)
    again = spend_set(
        organization=org_a,
        month=date(2026, 3, 1),
        channel=channel(org_a, "ads"),
        amount=Decimal("800"),
        note="cut",
    )
    assert again.pk == row.pk
    assert rows(org_a) == [(date(2026, 3, 1), "ads", "", Decimal("800.00"), "cut")]


def test_a_campaign_is_its_own_row(org_a):
    spend_set(organization=org_a, month="2026-03", channel="ads", amount=100)
    spend_set(
        organization=org_a, month="2026-03", channel="Ads", amount=40, campaign="Spring promo"
    )  # by name, any case
    assert [r[2:4] for r in rows(org_a)] == [("", Decimal(100)), ("Spring promo", Decimal(40))]


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"month": "2026-13"}, "month", "01 to 12"),
        ({"month": "March"}, "month", "YYYY-MM"),
        ({"month": date(2026, 3, 15)}, "month", "first day"),
        ({"month": "0001-01"}, "month", "between 1900"),
        ({"amount": "-5"}, "amount", "cannot be negative"),
        ({"amount": "12.345"}, "amount", "2 decimals"),
        ({"amount": "abc"}, "amount", "not a number"),
        ({"amount": "NaN"}, "amount", "not a number"),
        ({"amount": "1e309"}, "amount", "less than"),
        ({"amount": ""}, "amount", "Enter an amount"),
        ({"channel": "billboards"}, "channel", "not a channel"),
        ({"channel": ""}, "channel", "Choose a channel"),
        ({"campaign": "x" * 201}, "campaign", "At most 200"),
        ({"note": "bad\x00"}, "note", "NUL"),
    ],
)
def test_set_refuses_bad_input_naming_the_field(org_a, kwargs, field, text):
    values = {"month": "2026-03", "channel": "ads", "amount": "10", **kwargs}
    with pytest.raises(ValidationError) as caught:
        spend_set(organization=org_a, **values)
    assert field in caught.value.message_dict, caught.value
    assert text in " ".join(caught.value.message_dict[field])
    assert rows(org_a) == []


def test_a_month_too_far_ahead_is_refused(org_a):
    this_month = timezone.localdate().replace(day=1)
    spend_set(
        organization=org_a, month=add_months(this_month, 12), channel="ads", amount=1
    )  # a budget a year ahead: fine
    with pytest.raises(ValidationError, match="too far ahead"):
        spend_set(organization=org_a, month=add_months(this_month, 13), channel="ads", amount=1)


def test_inactive_and_other_organizations_channels_are_refused(org_a, org_b):
    old = channel_save(organization=org_a, name="Radio", active=False)
    with pytest.raises(ValidationError, match="inactive"):
        spend_set(organization=org_a, month="2026-03", channel=old, amount=10)
    with pytest.raises(ValidationError, match="Not found in this organization"):
        spend_set(organization=org_a, month="2026-03", channel=channel(org_b, "ads"), amount=10)
    assert rows(org_a) == [] and rows(org_b) == []


def test_delete_get_and_clear(org_a, org_b):
    mine = spend_set(organization=org_a, month="2026-03", channel="ads", amount=10)
    theirs = spend_set(organization=org_b, month="2026-03", channel="ads", amount=20)
    assert spend_get(organization=org_a, spend_id=mine.pk) == mine
    assert spend_get(organization=org_a, spend_id=theirs.pk) is None
    assert spend_get(organization=org_a, spend_id="9" * 30) is None
    with pytest.raises(ValidationError):
        spend_delete(organization=org_a, spend=theirs)
    spend_delete(organization=org_a, spend=mine)
    assert rows(org_a) == [] and len(rows(org_b)) == 1
    spend_set(organization=org_a, month="2026-04", channel="ads", amount=5, campaign="C")
    assert spend_clear(organization=org_a, month="2026-04", channel="ads", campaign="C")
    assert not spend_clear(organization=org_a, month="2026-04", channel="ads", campaign="C")


def test_month_set_is_all_or_nothing(org_a, owner_a):
    spend_set(organization=org_a, month="2026-03", channel="ads", amount=10, note="kept")
    entries = {
        "a": SpendEntry("ads", "", "25"),
        "b": SpendEntry("search", "", None),
        "c": SpendEntry("email", "News", "-1"),
    }
    with pytest.raises(ValidationError) as caught:
        spend_month_set(organization=org_a, month="2026-03", entries=entries, by=owner_a)
    assert list(caught.value.message_dict) == ["c"]
    assert rows(org_a) == [(date(2026, 3, 1), "ads", "", Decimal(10), "kept")]
    entries["c"] = SpendEntry("email", "News", "7.5")
    counts = spend_month_set(organization=org_a, month="2026-03", entries=entries, by=owner_a)
    assert counts == {"created": 1, "updated": 1, "unchanged": 0, "cleared": 0}
    assert rows(org_a) == [
        (date(2026, 3, 1), "ads", "", Decimal(25), "kept"),  # the note is kept
        (date(2026, 3, 1), "email", "News", Decimal("7.50"), ""),
    ]
    entries["a"] = SpendEntry("ads", "", None)
    counts = spend_month_set(organization=org_a, month="2026-03", entries=entries)
    assert counts["cleared"] == 1 and counts["unchanged"] == 1


# --- spend_for ----------------------------------------------------------------------------


def test_spend_for_sums_by_hand(org_a, org_b):
    spend_set(organization=org_a, month="2026-01", channel="ads", amount="100.10")
    spend_set(organization=org_a, month="2026-01", channel="ads", amount="50", campaign="Promo")
    spend_set(organization=org_a, month="2026-02", channel="ads", amount="30")
    spend_set(organization=org_a, month="2026-02", channel="referral", amount="5.25")
    spend_set(
        organization=org_a, month="2026-05", channel="search", amount="999"
    )  # outside the range asked
    spend_set(
        organization=org_b, month="2026-01", channel="ads", amount="7777"
    )  # another organization's
    table = spend_for(organization=org_a, first_month="2026-01", last_month="2026-03")
    assert table.months == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert table.cells == {
        (date(2026, 1, 1), "ads"): Decimal("150.10"),
        (date(2026, 2, 1), "ads"): Decimal("30"),
        (date(2026, 2, 1), "referral"): Decimal("5.25"),
    }
    assert table.channel_totals == {"ads": Decimal("180.10"), "referral": Decimal("5.25")}
    assert table.month_totals == {
        date(2026, 1, 1): Decimal("150.10"),
        date(2026, 2, 1): Decimal("35.25"),
    }
    assert table.total == Decimal("185.35")
    assert [r.campaign for r in table.campaigns(date(2026, 1, 1), "ads")] == ["Promo"]
    assert "walk-in" in table.channels  # every active channel, for the grid
    one = spend_for(organization=org_a, channel="referral")
    assert one.total == Decimal("5.25") and list(one.channels) == ["referral"]
    assert spend_for(organization=org_a).total == Decimal("1184.35")  # all months
    assert spend_for(organization=org_a).months[0] == date(2026, 1, 1)


def test_spend_for_refuses_a_backward_range_and_unknown_channel(org_a):
    with pytest.raises(ValidationError, match="before"):
        spend_for(organization=org_a, first_month="2026-05", last_month="2026-01")
    with pytest.raises(ValidationError, match="not a channel"):
        spend_for(organization=org_a, channel="nope")


# --- the importer -------------------------------------------------------------------------

GOOD = (
    "month,channel,campaign,amount,note\n"
    "2026-01,ads,,1200,\n"
    '2026-01,Ads,Spring promo,"1,234.50",launch\n'
    "2026-02-15,referral,,0,\n"
    '2026-02,search,,"99,90",\n'
)


def test_import_writes_every_row_and_reimport_changes_nothing(org_a, owner_a, tmp_path):
    path = write(tmp_path, GOOD)
    result = spend_import(org_a, path, owner_a)
    assert not result.failed, result.errors
    assert (result.rows, result.created, result.updated, result.unchanged) == (4, 4, 0, 0)
    assert result.total == Decimal("1200") + Decimal("1234.50") + Decimal("0") + Decimal("99.90")
    expected = [
        (date(2026, 1, 1), "ads", "", Decimal(1200), ""),
        (date(2026, 1, 1), "ads", "Spring promo", Decimal("1234.50"), "launch"),
        (date(2026, 2, 1), "referral", "", Decimal(0), ""),
        (date(2026, 2, 1), "search", "", Decimal("99.90"), ""),
    ]
    assert rows(org_a) == expected
    updated_at = sorted(Spend.objects.for_org(org_a).values_list("updated_at", flat=True))
    again = spend_import(org_a, path, owner_a)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert rows(org_a) == expected
    assert sorted(Spend.objects.for_org(org_a).values_list("updated_at", flat=True)) == updated_at


def test_import_sets_not_adds(org_a, tmp_path):
    spend_set(organization=org_a, month="2026-01", channel="ads", amount=5000)
    spend_set(
        organization=org_a, month="2026-03", channel="email", amount=10
    )  # not in the file: left alone
    result = spend_import(org_a, write(tmp_path, GOOD))
    assert (result.created, result.updated) == (3, 1)
    amounts = {(m, c, k): a for m, c, k, a, _n in rows(org_a)}
    assert amounts[(date(2026, 1, 1), "ads", "")] == Decimal(1200)
    assert amounts[(date(2026, 3, 1), "email", "")] == Decimal(10)


def test_dry_run_writes_nothing(org_a, tmp_path):
    result = spend_import(org_a, write(tmp_path, GOOD), dry_run=True)
    assert not result.failed and result.rows == 4 and not result.imported
    assert rows(org_a) == []


def test_semicolons_cp1252_and_bom(org_a, tmp_path):
    text = "Month;Channel;Amount;Note\n2026-01;ads;1.234,50;Café crème\n2026-02;ads;1234,5;\n"
    result = spend_import(org_a, write(tmp_path, text.encode("cp1252"), "sc.csv"))
    assert not result.failed, result.errors
    assert "Windows-1252" in result.file_format or "cp1252" in result.file_format
    assert "semicolon" in result.file_format
    assert rows(org_a) == [
        (date(2026, 1, 1), "ads", "", Decimal("1234.50"), "Café crème"),
        (date(2026, 2, 1), "ads", "", Decimal("1234.50"), ""),
    ]
    tabbed = "\ufeffmonth\tchannel\tamount\n2026-03\treferral\t12\n".encode()
    result = spend_import(org_a, write(tmp_path, tabbed, "tab.csv"))
    assert not result.failed and "tab" in result.file_format
    assert rows(org_a)[-1] == (date(2026, 3, 1), "referral", "", Decimal(12), "")


def test_an_uploaded_file_object(org_a, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("spend.csv", GOOD.encode(), content_type="text/csv")
    result = spend_import(org_a, upload)
    assert result.imported and result.file == "spend.csv" and len(rows(org_a)) == 4


BAD_ROWS = [
    ("2026-13,ads,,10", "month", "the month is 01 to 12"),
    ("last month,ads,,10", "month", "is not a month"),
    ("2026-01,billboards,,10", "channel", "'billboards' is not a channel's key or name"),
    ("2026-01,,,10", "channel", "no channel"),
    ("2026-01,ads,,-10", "amount", "Spend cannot be negative."),
    ("2026-01,ads,,ten", "amount", "'ten' is not a number."),
    ("2026-01,ads,,10.001", "amount", "Use at most 2 decimals"),
    ("2026-01,ads,,", "amount", "Enter an amount."),
]


@pytest.mark.parametrize(("row", "column", "reason"), BAD_ROWS)
def test_a_bad_row_is_reported_and_nothing_written(org_a, tmp_path, row, column, reason):
    text = "month,channel,campaign,amount\n2026-01,referral,,5\n" + row + "\n"
    result = spend_import(org_a, write(tmp_path, text))
    assert result.failed and not result.imported
    assert result.errors_total == 1
    error = result.errors[0]
    assert (error.line, error.column) == (3, column)
    assert reason in error.reason
    assert result.report_lines() == [f"line 3, column {column}: {error.reason}"]
    assert rows(org_a) == []  # the good line 2 is not written either


def test_an_unquoted_thousands_comma_is_refused_not_misread(org_a, tmp_path):
    text = "month,channel,amount\n2026-01,ads,1,234.50\n"
    result = spend_import(org_a, write(tmp_path, text))
    assert result.failed and result.errors[0].line == 2
    assert "4 values for 3 columns" in result.errors[0].reason
    assert rows(org_a) == []


def test_every_bad_row_is_reported(org_a, tmp_path):
    text = "month,channel,amount\n2026-13,ads,10\n2026-01,nope,-1\n2026-02,ads,5\n"
    result = spend_import(org_a, write(tmp_path, text))
    assert result.report_lines() == [
        "line 2, column month: 2026-13 is not a month: the month is 01 to 12 (YYYY-MM).",
        "line 3, column channel: 'nope' is not a channel's key or name",
        "line 3, column amount: Spend cannot be negative.",
    ]
    assert rows(org_a) == []


def test_a_duplicate_row_is_an_error(org_a, tmp_path):
    text = (
        "month,channel,campaign,amount\n"
        "2026-01,ads,Promo,10\n"
        "2026-01,ads,,10\n"  # the same channel outside the campaign: fine
        "2026-01-20,Ads,Promo,12\n"  # the same month, channel and campaign as line 2
    )
    result = spend_import(org_a, write(tmp_path, text))
    assert result.report_lines() == [
        "line 4, column channel: ads 2026-01 “Promo” is already on line 2"
    ]
    assert rows(org_a) == []


def test_an_inactive_channel_is_an_error(org_a, tmp_path):
    channel_save(organization=org_a, name="Radio", active=False)
    result = spend_import(org_a, write(tmp_path, "month,channel,amount\n2026-01,radio,10\n"))
    assert result.report_lines() == ["line 2, column channel: the channel Radio is inactive"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"  \n\n", "is empty"),
        (b"month,channel,amount\n", "has a header but no rows"),
        (b"month,channel\n2026-01,ads\n", "missing column amount"),
        (b"when,where,how much\n2026-01,ads,1\n", "missing columns month, channel, amount"),
        ("month,channel,amount\n2026-01,ads,1\n".encode("utf-16"), "UTF-16"),
        (b"month,channel,amount,amount\n2026-01,ads,1,2\n", "in the header twice"),
    ],
)
def test_a_file_that_cannot_be_imported(org_a, tmp_path, content, problem):
    result = spend_import(org_a, write(tmp_path, content))
    assert result.failed and not result.imported
    assert problem in result.problems[0], result.problems
    assert rows(org_a) == []


def test_other_organizations_channels_are_unknown(org_a, org_b, tmp_path):
    channel_save(organization=org_b, name="Billboards")
    result = spend_import(org_a, write(tmp_path, "month,channel,amount\n2026-01,billboards,1\n"))
    assert result.errors[0].column == "channel" and rows(org_a) == [] and rows(org_b) == []


def test_an_export_imports_back_unchanged(org_a, tmp_path):
    from keepscore.economics.selectors import EXPORT_COLUMNS, spend_csv_rows
    from keepscore.exports.writers import Table, csv_chunks

    spend_set(
        organization=org_a,
        month="2026-01",
        channel="ads",
        amount="10.50",
        campaign="=cmd|calc",
        note="+1 note",
    )
    spend_set(organization=org_a, month="2026-02", channel="referral", amount="0")
    before = rows(org_a)
    text = "".join(
        csv_chunks(
            Table("spend", EXPORT_COLUMNS, spend_csv_rows(table=spend_for(organization=org_a)))
        )
    )
    assert "'=cmd|calc" in text  # formula-escaped for spreadsheets
    Spend.objects.for_org(org_a).delete()
    result = spend_import(org_a, write(tmp_path, text))
    assert not result.failed, result.errors
    assert rows(org_a) == before


def test_the_scorecards_marketing_spend_is_the_months_spend(org_a, org_b):
    """The scorecard row "Marketing spend": the month's entries summed by hand (campaigns
    and channels together), "not recorded" for a month without any, the year to date only
    once every month has spend, never projected."""
    from keepscore.scorecard.compute import scorecard_for
    from keepscore.scorecard.services import goal_set

    spend_set(organization=org_a, month="2025-01", channel="ads", amount="100.10")
    spend_set(organization=org_a, month="2025-01", channel="ads", amount="50", campaign="Promo")
    spend_set(organization=org_a, month="2025-01", channel="referral", amount="5.25")
    spend_set(organization=org_a, month="2025-03", channel="ads", amount="40")
    spend_set(
        organization=org_b, month="2025-01", channel="ads", amount="7777"
    )  # another organization's
    goal_set(organization=org_a, metric_key="marketing_spend", year=2025, value=2000)

    def row(month: date) -> Any:
        card = scorecard_for(org_a, month, today=date(2025, 12, 31))
        [found] = [r for r in card.rows if r.key == "marketing_spend"]
        return found

    january, february, march = row(date(2025, 1, 1)), row(date(2025, 2, 1)), row(date(2025, 3, 1))
    assert january.value == pytest.approx(155.35) and january.recorded
    assert january.ytd == pytest.approx(155.35)
    assert february.value is None and not february.recorded  # unknown, not free
    assert march.value == pytest.approx(40) and march.recorded
    assert march.ytd is None  # February is unknown
    assert march.previous is None and march.change is None
    assert january.projection is None and january.unit == "money"

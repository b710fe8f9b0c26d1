"""Cash position services and the runway, by hand-computed values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.common.months import month_add as add_months
from keepscore.economics.models import CashPosition
from keepscore.economics.selectors import cash_current, cash_history, runway_months
from keepscore.economics.services import cash_delete, cash_set

pytestmark = pytest.mark.django_db


def test_set_and_set_again_replaces(org_a, owner_a):
    row = cash_set(
        organization=org_a,
        month="2026-03",
        cash_on_hand="12,000",
        monthly_fixed_costs="3000",
        note="after VAT",
        by=owner_a,
    )
    assert (row.month, row.cash_on_hand, row.monthly_fixed_costs, row.note, row.by) == (
        date(2026, 3, 1),
        Decimal(12000),
        Decimal(3000),
        "after VAT",
        owner_a.user,
    )
    again = cash_set(
        organization=org_a,
        month=date(2026, 3, 1),
        cash_on_hand=Decimal("-250.50"),
        monthly_fixed_costs=0,
    )
    assert again.pk == row.pk
    assert CashPosition.objects.for_org(org_a).count() == 1
    again.refresh_from_db()
    assert (again.cash_on_hand, again.monthly_fixed_costs, again.note) == (
        Decimal("-250.50"),
        0,
        "",
    )


@pytest.mark.parametrize(
    ("args", "field", "text"),
    [
        (("2026-13", 1, 1), "month", "01 to 12"),
        (("2026-03", "lots", 1), "cash_on_hand", "not a number"),
        # a lone dot is the decimal point: 1.234 has three decimals
        (("2026-03", "1.234", 1), "cash_on_hand", "2 decimals"),
        (("2026-03", 1, "-1"), "monthly_fixed_costs", "Fixed costs cannot be negative"),
        (("2026-03", 1, "0.001"), "monthly_fixed_costs", "2 decimals"),
        (("2026-03", "1e13", 1), "cash_on_hand", "less than"),
    ],
)
def test_bad_input_names_the_field(org_a, args, field, text):
    with pytest.raises(ValidationError) as caught:
        month, cash_on_hand, monthly_fixed_costs = args
        cash_set(
            organization=org_a,
            month=month,
            cash_on_hand=cash_on_hand,
            monthly_fixed_costs=monthly_fixed_costs,
        )
    assert field in caught.value.message_dict
    assert text in " ".join(caught.value.message_dict[field])
    assert not CashPosition.objects.for_org(org_a).exists()


def test_a_future_month_is_refused(org_a):
    this_month = timezone.localdate().replace(day=1)
    cash_set(organization=org_a, month=this_month, cash_on_hand=1, monthly_fixed_costs=1)
    with pytest.raises(ValidationError, match="too far ahead"):
        cash_set(
            organization=org_a,
            month=add_months(this_month, 1),
            cash_on_hand=1,
            monthly_fixed_costs=1,
        )


@pytest.mark.parametrize(
    ("cash", "fixed", "runway"),
    [
        ("12000", "3000", Decimal("4.00")),
        ("10000", "3000", Decimal("3.33")),  # 3.333…
        ("5000", "3000", Decimal("1.67")),  # 1.666… rounds half up
        ("0", "3000", Decimal(0)),
        ("-500", "3000", Decimal(0)),
        ("12000", "0", None),
        ("-500", "0", None),
    ],
)
def test_runway(org_a, cash, fixed, runway):
    position = cash_set(
        organization=org_a, month="2026-01", cash_on_hand=cash, monthly_fixed_costs=fixed
    )
    assert runway_months(position=position) == runway


def test_no_position_no_runway():
    assert runway_months(position=None) is None


def test_current_is_the_latest_at_or_before_the_month(org_a, org_b):
    cash_set(organization=org_a, month="2026-01", cash_on_hand=9000, monthly_fixed_costs=3000)
    cash_set(organization=org_a, month="2026-04", cash_on_hand=6000, monthly_fixed_costs=3000)
    cash_set(
        organization=org_b, month="2026-03", cash_on_hand=1, monthly_fixed_costs=1
    )  # another organization's
    assert cash_current(organization=org_a, on=date(2025, 12, 31)) is None
    assert cash_current(organization=org_a, on=date(2026, 1, 1)).month == date(2026, 1, 1)
    assert cash_current(organization=org_a, on=date(2026, 3, 31)).month == date(2026, 1, 1)
    assert cash_current(organization=org_a, on=date(2026, 4, 20)).month == date(2026, 4, 1)
    assert cash_current(organization=org_a).month == date(2026, 4, 1)  # today is after April 2026
    assert runway_months(position=cash_current(organization=org_a, on=date(2026, 3, 1))) == Decimal(
        3
    )


def test_history_latest_first_with_runway(org_a, org_b, owner_a):
    cash_set(
        organization=org_a, month="2026-01", cash_on_hand=9000, monthly_fixed_costs=3000, by=owner_a
    )
    cash_set(
        organization=org_a,
        month="2026-02",
        cash_on_hand=7500,
        monthly_fixed_costs=3000,
        note="slow month",
    )
    cash_set(organization=org_b, month="2026-02", cash_on_hand=1, monthly_fixed_costs=1)
    history = cash_history(organization=org_a)
    assert [(r.month_text, r.runway, r.note, r.by) for r in history] == [
        ("2026-02", Decimal("2.50"), "slow month", ""),
        ("2026-01", Decimal("3.00"), "", owner_a.user.email),
    ]
    assert cash_delete(organization=org_a, month="2026-02")
    assert not cash_delete(organization=org_a, month="2026-02")
    assert [r.month_text for r in cash_history(organization=org_a)] == ["2026-01"]

"""The scorecard's rules: the catalogue, months, values, targets, goals, the review."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from keepscore.common.months import month_parse
from keepscore.leads.settings_services import stage_save
from keepscore.scorecard import selectors, services
from keepscore.scorecard.catalogue import computed_metrics, metric_catalogue, metric_get
from keepscore.scorecard.models import Goal, ManualValue, ReviewEntry, Target
from tests.scorecard.conftest import make_metric

pytestmark = pytest.mark.django_db


def fields(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(error.value.message_dict)


# --- the catalogue ---------------------------------------------------------------------------


def test_computed_metrics_follow_the_default_ladder(org_a):
    keys = [m.key for m in computed_metrics(org_a)]
    assert keys == [
        "new_leads",
        "entered_suspect",
        "entered_prospect",
        "entered_lead",
        "entered_qualified",
        "entered_proposal",
        "entered_customer",
        "conversion_suspect_prospect",
        "conversion_prospect_lead",
        "conversion_lead_qualified",
        "conversion_qualified_proposal",
        "conversion_proposal_customer",
        "call_attempts",
        "connects",
        "sales_conversations",
        "qualifying_conversations",
        "presentations",
        "proposals",
        "marketing_spend",
        "cost_per_lead",
        "customers",
        "lost",
        "close_rate",
        "revenue",
        "margin",
        "margin_pct",
        "cost_per_customer",
        "return_on_spend",
        "sales_cycle_median",
        "sales_cycle_p80",
    ]
    by_key = {m.key: m for m in computed_metrics(org_a)}
    assert by_key["entered_prospect"].name == "Entered Prospect"
    assert by_key["entered_prospect"].group == "PROSPECT"
    assert by_key["conversion_lead_qualified"].unit == "percent"
    assert by_key["conversion_proposal_customer"].group == "CUSTOMER"
    assert by_key["revenue"].unit == "money"
    assert by_key["sales_cycle_p80"].higher_is_better is False
    assert not any(m.manual for m in by_key.values())


def test_the_catalogue_follows_a_changed_ladder_and_adds_active_manual_metrics(org_a):
    stage_save(organization=org_a, name="Demo", group="LEAD")  # added at the end, before nothing
    make_metric(org_a, "Downloads", group="PROSPECT")
    make_metric(org_a, "Old", active=False)
    keys = [m.key for m in metric_catalogue(org_a)]
    assert "entered_demo" in keys and "conversion_customer_demo" in keys
    assert keys[-1] == "downloads" and "old" not in keys
    assert metric_get(org_a, "downloads").manual


def test_an_unknown_metric_is_an_error_naming_it(org_a, org_b):
    make_metric(org_b, "Bravo only", key="bravo_only")
    for key in ("nope", "bravo_only"):
        with pytest.raises(ValidationError) as error:
            metric_get(org_a, key)
        assert key in str(error.value)


# --- months ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "month"),
    [
        ("2026-03", date(2026, 3, 1)),
        ("2026-3", date(2026, 3, 1)),
        (" 2026-12 ", date(2026, 12, 1)),
        ("2026-03-17", date(2026, 3, 1)),
        (date(2026, 3, 31), date(2026, 3, 1)),
    ],
)
def test_months_are_the_first_of_the_month(given, month):
    assert month_parse(given) == month


@pytest.mark.parametrize(
    "bad", ["2026-13", "2026-00", "2026-02-30", "1899-12", "3000-01", "march", "", "2026/03"]
)
def test_a_bad_month_is_a_clear_error(bad):
    with pytest.raises(ValidationError) as error:
        month_parse(bad)
    assert fields(error) == {"month"}


def test_2026_13_says_the_month_is_01_to_12():
    with pytest.raises(ValidationError, match="01 to 12"):
        month_parse("2026-13")


# --- manual metrics --------------------------------------------------------------------------


def test_a_manual_metric_gets_its_key_from_its_name(org_a):
    metric = make_metric(org_a, "Website visitors")
    assert metric.key == "website_visitors"
    assert metric.position > 0


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("revenue", "computed"),
        ("entered_anything", "computed"),
        ("conversion_x", "computed"),
        ("Bad Key!", "lower-case"),
        ("-x", "lower-case"),
    ],
)
def test_a_manual_key_may_not_clash_with_a_computed_one(org_a, key, why):
    with pytest.raises(ValidationError, match=why) as error:
        make_metric(org_a, "Something", key=key)
    assert fields(error) == {"key"}


def test_a_manual_key_and_name_are_unique_in_the_organization_only(org_a, org_b):
    make_metric(org_a, "Visitors")
    make_metric(org_b, "Visitors")  # another organization: fine
    with pytest.raises(ValidationError) as error:
        make_metric(org_a, "Other", key="visitors")
    assert fields(error) == {"key"}
    with pytest.raises(ValidationError) as error:
        make_metric(org_a, "VISITORS", key="visitors_2")
    assert fields(error) == {"name"}


def test_a_manual_metrics_key_never_changes(org_a, visitors_a):
    saved = services.manual_metric_save(
        organization=org_a, metric=visitors_a, name="Site visits", group="PROSPECT"
    )
    assert (saved.key, saved.name, saved.group) == ("website_visitors", "Site visits", "PROSPECT")
    with pytest.raises(ValidationError) as error:
        services.manual_metric_save(
            organization=org_a, metric=visitors_a, name="x", group="SUSPECT", key="other"
        )
    assert fields(error) == {"key"}


def test_bad_group_unit_or_name_are_refused(org_a):
    for kw, field in [
        ({"name": " ", "group": "SUSPECT"}, "name"),
        ({"name": "x", "group": "NOPE"}, "group"),
        ({"name": "x", "group": "LEAD", "unit": "kg"}, "unit"),
    ]:
        with pytest.raises(ValidationError) as error:
            services.manual_metric_save(organization=org_a, **kw)
        assert fields(error) == {field}


def test_another_organizations_metric_is_refused(org_a, visitors_b):
    with pytest.raises(ValidationError):
        services.manual_metric_save(
            organization=org_a, metric=visitors_b, name="Hijack", group="LEAD"
        )


# --- manual values ---------------------------------------------------------------------------


def test_a_value_is_set_again_not_added_and_none_clears_it(org_a, owner_a, visitors_a):
    services.manual_value_set(metric=visitors_a, month="2026-03", value="120", by=owner_a)
    services.manual_value_set(metric=visitors_a, month="2026-03-20", value=Decimal(130))
    row = ManualValue.objects.get(metric=visitors_a)
    assert (row.month, row.value) == (date(2026, 3, 1), Decimal(130))
    assert selectors.manual_values(organization=org_a, months=[date(2026, 3, 9)]) == {
        ("website_visitors", date(2026, 3, 1)): Decimal(130)
    }
    services.manual_value_set(metric=visitors_a, month="2026-03", value=None)
    assert not ManualValue.objects.exists()


@pytest.mark.parametrize(
    ("unit", "value", "message"),
    [
        ("count", "-1", "negative"),
        ("count", "1.5", "whole"),
        ("days", "-2", "negative"),
        ("percent", "101", "-100 to 100"),
        ("money", "1e12", "less than"),
        ("money", "NaN", "number"),
        ("money", "1.00001", "decimals"),
        ("number", "abc", "not a number"),
    ],
)
def test_values_are_checked_against_the_metrics_unit(org_a, unit, value, message):
    metric = make_metric(org_a, f"A {unit}", unit=unit)
    with pytest.raises(ValidationError, match=message) as error:
        services.manual_value_set(metric=metric, month="2026-01", value=value)
    assert fields(error) == {"value"}
    assert not ManualValue.objects.exists()


def test_a_row_of_values_is_all_or_nothing(org_a, visitors_a):
    services.manual_value_set(metric=visitors_a, month="2026-01", value=5)
    with pytest.raises(ValidationError) as error:
        services.manual_values_set(
            metric=visitors_a,
            values={date(2026, 1, 1): None, date(2026, 2, 1): Decimal(3), date(2026, 3, 1): -1},
        )
    assert fields(error) == {"m03"}
    assert list(ManualValue.objects.values_list("month", "value")) == [
        (date(2026, 1, 1), Decimal(5))
    ]


def test_a_member_of_another_organization_cannot_write(org_a, owner_b, visitors_a):
    with pytest.raises(ValidationError) as error:
        services.manual_value_set(metric=visitors_a, month="2026-01", value=1, by=owner_b)
    assert fields(error) == {"by"}


# --- targets and goals -----------------------------------------------------------------------


def test_targets_are_set_per_metric_and_month_and_cleared(org_a, org_b):
    services.target_set(organization=org_a, metric_key="revenue", month="2026-04", value="5000")
    services.target_set(organization=org_a, metric_key="revenue", month="2026-04-30", value=6000)
    services.target_set(organization=org_b, metric_key="revenue", month="2026-04", value=1)
    assert selectors.targets_for(
        organization=org_a, months=[date(2026, 4, 1), date(2026, 5, 1)]
    ) == {("revenue", date(2026, 4, 1)): Decimal(6000)}
    assert services.target_clear(organization=org_a, metric_key="revenue", month="2026-04")
    assert not services.target_clear(organization=org_a, metric_key="revenue", month="2026-04")
    assert Target.objects.count() == 1  # B's


def test_a_target_needs_a_known_metric_a_month_and_a_fitting_value(org_a, visitors_b):
    cases = [
        ({"metric_key": "nope", "month": "2026-01", "value": 1}, "metric"),
        ({"metric_key": "bravo_visitors", "month": "2026-01", "value": 1}, "metric"),
        ({"metric_key": "revenue", "month": "2026-13", "value": 1}, "month"),
        ({"metric_key": "close_rate", "month": "2026-01", "value": 150}, "value"),
    ]
    for kw, field in cases:
        with pytest.raises(ValidationError) as error:
            services.target_set(organization=org_a, **kw)
        assert fields(error) == {field}
    with pytest.raises(ValidationError):
        services.target_clear(organization=org_a, metric_key="nope", month="2026-01")
    assert not Target.objects.exists()


def test_goals_are_set_per_metric_and_year(org_a):
    services.goal_set(organization=org_a, metric_key="customers", year=2026, value=40)
    services.goal_set(organization=org_a, metric_key="customers", year="2026", value=50)
    assert selectors.goals_for(organization=org_a, year=2026) == {"customers": Decimal(50)}
    with pytest.raises(ValidationError) as error:
        services.goal_set(organization=org_a, metric_key="customers", year=12026, value=1)
    assert fields(error) == {"year"}
    assert services.goal_clear(organization=org_a, metric_key="customers", year=2026)
    assert not Goal.objects.exists()


def test_a_row_of_targets_with_its_goal_is_all_or_nothing(org_a):
    months = {date(2026, m, 1): Decimal(m) for m in range(1, 13)}
    services.targets_year_set(
        organization=org_a, metric_key="new_leads", year=2026, targets=months, goal=Decimal(78)
    )
    assert (
        Target.objects.count() == 12
        and selectors.goals_for(organization=org_a, year=2026)["new_leads"] == 78
    )
    with pytest.raises(ValidationError) as error:
        services.targets_year_set(
            organization=org_a,
            metric_key="new_leads",
            year=2026,
            targets={**months, date(2026, 1, 1): None},
            goal=Decimal("-1"),
        )
    assert fields(error) == {"goal"}
    assert Target.objects.count() == 12
    services.targets_year_set(
        organization=org_a,
        metric_key="new_leads",
        year=2026,
        targets={m: None for m in months},
        goal=None,
    )
    assert not Target.objects.exists() and not Goal.objects.exists()


# --- the review ------------------------------------------------------------------------------


def test_reviews_are_added_and_read_by_month(org_a, owner_a, org_b):
    services.review_add(
        organization=org_a, month="2026-03", kind="note", text=" Slow Q1 ", by=owner_a
    )
    services.review_add(organization=org_a, month="2026-03-31", kind="decision", text="More calls")
    services.review_add(organization=org_a, month="2026-04", kind="note", text="April")
    services.review_add(organization=org_b, month="2026-03", kind="note", text="Bravo")
    reviews = selectors.reviews_for(organization=org_a, month="2026-03")
    assert [(r.kind, r.text, r.by) for r in reviews] == [
        ("note", "Slow Q1", "owner@acme.test"),
        ("decision", "More calls", ""),
    ]


def test_a_review_needs_text_and_a_kind(org_a):
    for kw, field in [
        ({"kind": "note", "text": " "}, "text"),
        ({"kind": "x", "text": "t"}, "kind"),
    ]:
        with pytest.raises(ValidationError) as error:
            services.review_add(organization=org_a, month="2026-03", **kw)
        assert fields(error) == {field}
    assert not ReviewEntry.objects.exists()


def test_the_review_is_append_only(org_a):
    entry = services.review_add(organization=org_a, month="2026-03", kind="note", text="Kept")
    assert not any(name.startswith(("review_edit", "review_delete")) for name in dir(services))
    entry.text = "Rewritten"
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
    assert ReviewEntry.objects.get().text == "Kept"

"""The plan against the year: the counts are the scorecard's, and the verdict says whether
the gap is marketing or sales, by the thresholds worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from keepscore.common.months import month_add
from keepscore.plan.check import PlanCheck, _judge, plan_check
from keepscore.plan.selectors import plan_report
from keepscore.plan.services import plan_save
from keepscore.scorecard.compute import scorecard_for

pytestmark = pytest.mark.django_db


def check(leads: int, leads_plan: float, customers: int, customers_plan: float) -> PlanCheck:
    return PlanCheck(2027, date(2027, 6, 1), leads, leads_plan, customers, customers_plan, "", "")


@pytest.mark.parametrize(
    "numbers, verdict, words",
    [
        # leads 100%; customers 48 of 60 (80%): P(Poisson(60) <= 48) = 0.065 < 0.10, behind;
        # the leads give 60 at plan, 48 came: conversion 10% -> 8%, 2 points under
        ((600, 600, 48, 60), "sales", "leads on plan, conversion 2.0 points under plan"),
        # leads 80% (P(Poisson(600) <= 480) ~ 2e-7); the 480 leads give 48 at plan: holds
        ((480, 600, 48, 60), "marketing", "conversion holds, too few leads"),
        # leads 80%; 36 customers of the 48 the leads give (75%, P = 0.044): both short
        ((480, 600, 36, 60), "both", "too few leads and conversion"),
        ((600, 600, 58, 60), "on_plan", "on plan."),  # 97%
        # customers 55 of 60 (92%): P(Poisson(60) <= 55) = 0.29, within chance
        ((558, 600, 55, 60), "watch", "under plan, but within what chance alone gives"),
        # customers 920 of 1,000 (P = 0.005): behind; leads 96%, and 920 of the 960 the
        # leads give (96%): neither short alone
        ((9600, 10000, 920, 1000), "both", "each a little under it"),
        ((60, 60, 1, 4), "early", "too early to judge"),
        ((60, 60, 4, 2), "early", "too early to judge"),  # both under 5
        # 110%: P(Poisson(60) >= 66) = 0.236, within chance; 118%: P(>= 71) = 0.090, beyond
        ((600, 600, 66, 60), "on_plan", "(110%): on plan."),
        ((600, 600, 71, 60), "on_plan", "(118%): ahead of the plan."),
        # a small plan far exceeded is judged, not too early: P(Poisson(4.6) >= 134) ~ 0
        ((1093, 37, 134, 4.6), "on_plan", "134 customers of 5 (2913%): ahead of the plan."),
        # ... but not a plan reached by a little: P(Poisson(4.6) >= 5) = 0.487
        ((40, 37, 5, 4.6), "on_plan", "5 customers of 5 (109%): on plan."),
    ],
)
def test_the_verdict_by_hand(numbers, verdict, words):
    found = _judge(check(*numbers))
    assert found[0] == verdict and words in found[1]
    assert found[1].startswith("January to June 2027: ")


def _poisson_exact(k: int, mean: float) -> float:
    """P(X <= k), the terms built one from the other (p(i) = p(i - 1) x mean / i) in
    60-digit decimals."""
    from decimal import localcontext

    with localcontext() as context:
        context.prec = 60
        term = (-Decimal(mean)).exp()
        total = term
        for i in range(1, k + 1):
            term = term * Decimal(mean) / i
            total += term
        return float(total)


@pytest.mark.parametrize("k, mean", [(0, 3.5), (48, 60), (36, 48), (55, 60), (4990, 5000)])
def test_the_poisson_chance_by_the_recurrence(k, mean):
    from keepscore.plan.check import poisson_cdf

    assert poisson_cdf(k, mean) == pytest.approx(_poisson_exact(k, mean), rel=1e-9)


def test_past_5000_the_normal_approximation_is_close():
    from keepscore.plan.check import poisson_cdf

    for k in (5300, 5500, 5600):
        assert poisson_cdf(k, 5500) == pytest.approx(_poisson_exact(k, 5500), abs=0.003)


def test_the_counts_are_the_scorecards_months(demo):
    today = timezone.localdate()
    assert plan_check(demo, today) is None  # no plan saved
    last = month_add(today.replace(day=1), -1)  # the last complete month, and its year
    plan_save(
        organization=demo,
        year=last.year,
        goal_kind="customers",
        goal_amount=150,
        overrides={},
        by=None,
    )
    found = plan_check(demo, last)
    assert found is not None
    months = [date(last.year, m, 1) for m in range(1, last.month + 1)]
    rows = [{r.key: r.value for r in scorecard_for(demo, m).rows} for m in months]
    assert found.leads == sum(r["new_leads"] for r in rows)
    assert found.customers == sum(r["customers"] for r in rows)
    plan = plan_report(organization=demo, year=last.year).plan
    assert found.leads_plan == pytest.approx(sum(m.leads for m in plan.months[: last.month]))
    assert found.customers_plan == pytest.approx(
        sum(m.customers for m in plan.months[: last.month])
    )
    assert found.verdict in ("on_plan", "sales", "marketing", "both", "watch")


def test_the_focus_reads_the_plan_only_once_there_is_one(demo):
    from keepscore.focus.indicators.goal import PLAN_VERDICTS
    from keepscore.focus.selectors import diagnose

    today = timezone.localdate()
    assert "plan_gap" not in {i.key for i in diagnose(demo).indicators}
    last = month_add(today.replace(day=1), -1)
    plan_save(
        organization=demo,
        year=last.year,
        goal_kind="customers",
        goal_amount=150,
        overrides={},
        by=None,
    )
    [found] = [i for i in diagnose(demo).indicators if i.key == "plan_gap"]
    expected = plan_check(demo, last)
    assert found.explanation == expected.sentence
    assert (found.status, found.pushes) == PLAN_VERDICTS[expected.verdict]
    assert found.evidence["leads"] == expected.leads
    # a plan far above the history: the customers are under it
    plan_save(
        organization=demo,
        year=last.year,
        goal_kind="customers",
        goal_amount=5000,
        overrides={},
        by=None,
    )
    [far] = [i for i in diagnose(demo).indicators if i.key == "plan_gap"]
    assert far.status in ("alert", "watch") and far.value < 0.5


def test_the_scorecard_says_where_the_year_stands_against_the_plan(demo, client):
    from keepscore.accounts.models import Membership

    today = timezone.localdate()
    last = month_add(today.replace(day=1), -1)
    client.force_login(Membership.objects.filter(organization=demo, is_owner=True)[0].user)
    url = f"/o/plan-demo/scorecard/{last:%Y-%m}/"
    assert 'id="plan-check"' not in client.get(url).content.decode()
    plan_save(
        organization=demo,
        year=last.year,
        goal_kind="customers",
        goal_amount=150,
        overrides={},
        by=None,
    )
    page = client.get(url).content.decode()
    found = plan_check(demo, last)
    assert found.sentence in page.replace("&#x27;", "'")
    # the count of new leads takes the owner to exactly those leads
    import re
    from html import unescape

    link = re.search(r'<a href="([^"]+)">The (\d+) new leads</a>', page)
    assert link and int(link.group(2)) == found.leads
    listed = client.get(unescape(link.group(1))).content.decode()
    assert (
        int(re.search(r"(\d[\d,]*) leads? found", listed).group(1).replace(",", "")) == found.leads
    )


def test_the_pdf_says_it_too(demo, client):
    import io

    from pypdf import PdfReader

    from keepscore.accounts.models import Membership

    today = timezone.localdate()
    last = month_add(today.replace(day=1), -1)
    client.force_login(Membership.objects.filter(organization=demo, is_owner=True)[0].user)
    url = f"/o/plan-demo/scorecard/{last:%Y-%m}/export.pdf"

    def text() -> str:
        response = client.get(url)
        assert response.status_code == 200
        pages = PdfReader(io.BytesIO(response.content)).pages
        return " ".join(" ".join(p.extract_text().split()) for p in pages)

    assert "Against the plan" not in text()
    plan_save(
        organization=demo,
        year=last.year,
        goal_kind="customers",
        goal_amount=150,
        overrides={},
        by=None,
    )
    found = plan_check(demo, last)
    assert "Against the plan: " + " ".join(found.sentence.split()) in text()


def test_the_spend_page_sets_each_channels_spend_against_the_plan(demo, client):
    import re

    from django.db.models import Sum

    from keepscore.accounts.models import Membership
    from keepscore.economics.models import Spend
    from keepscore.plan.check import spend_check

    today = timezone.localdate()
    last = month_add(today.replace(day=1), -1)
    client.force_login(Membership.objects.filter(organization=demo, is_owner=True)[0].user)
    url = f"/o/plan-demo/spend/?month={last:%Y-%m}"
    assert spend_check(demo, last) is None
    before = client.get(url)
    assert before.status_code == 200 and 'id="spend-plan"' not in before.content.decode()
    plan_save(
        organization=demo,
        year=last.year,
        goal_kind="customers",
        goal_amount=150,
        overrides={},
        by=None,
    )
    report = plan_report(organization=demo, year=last.year, with_range=False)
    lines = {line.key: line for line in spend_check(demo, last)}
    assert set(lines) == {c.key for c in report.assumptions.channels}
    for channel in report.assumptions.channels:
        line = lines[channel.key]
        rows = Spend.objects.filter(organization=demo, channel__key=channel.key)

        def entered(rows=rows, **kw) -> Decimal:
            return rows.filter(**kw).aggregate(s=Sum("amount"))["s"]

        assert line.entered == entered(month=last)
        assert line.entered_to_date == (entered(month__year=last.year, month__lte=last) or 0)
        if channel.cost_per_lead is None:
            assert line.planned is None and line.planned_to_date is None
            continue
        # by hand: the month's leads x the channel's share x its cost per lead
        each = [m.leads * channel.share * channel.cost_per_lead for m in report.plan.months]
        assert line.planned == pytest.approx(each[last.month - 1])
        assert line.planned_to_date == pytest.approx(sum(each[: last.month]))
    assert any(line.planned for line in lines.values())  # the demo's paid channels
    page = client.get(url).content.decode()
    section = page[page.index('id="spend-plan"') :]
    for key, line in lines.items():
        row = re.search(rf'<tr data-channel="{re.escape(key)}">.*?</tr>', section, re.S).group(0)
        assert line.name in row
        if line.planned is not None:
            shown = re.search(r'data-figure="planned">([^<]+)<', row).group(1)
            assert re.sub(r"[^\d]", "", shown) == str(round(line.planned))


def test_the_api_and_the_cli_carry_the_same_check(demo):
    import json

    from tests.cli.test_cli import invoke
    from tests.plan.test_api import api_of

    last = month_add(timezone.localdate().replace(day=1), -1)
    api = api_of(demo, owner=False)  # any member reads the scorecard
    assert api.get(f"/scorecard/{last:%Y-%m}").json()["plan"] is None
    plan_save(
        organization=demo,
        year=last.year,
        goal_kind="customers",
        goal_amount=150,
        overrides={},
        by=None,
    )
    found = plan_check(demo, last)
    expected = {
        "verdict": found.verdict,
        "sentence": found.sentence,
        "through": f"{last:%Y-%m}",
        "leads": found.leads,
        "leads_plan": pytest.approx(found.leads_plan, abs=0.01),
        "customers": found.customers,
        "customers_plan": pytest.approx(found.customers_plan, abs=0.01),
    }
    answer = api.get(f"/scorecard/{last:%Y-%m}")
    assert answer.status_code == 200 and answer.json()["plan"] == expected
    as_json = invoke("scorecard", "--org", demo.slug, "--month", f"{last:%Y-%m}", "-f", "json")
    assert json.loads(as_json.stdout)["plan"] == expected
    table = invoke("scorecard", "--org", demo.slug, "--month", f"{last:%Y-%m}")
    assert "Against the plan: " + found.sentence in " ".join(table.stdout.split())

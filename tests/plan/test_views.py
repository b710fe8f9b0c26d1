"""The plan page: the assumptions with their sources, a what-if redrawn without saving,
Save for owners and marketing, bad input named and nothing saved."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from keepscore.accounts.models import Membership
from keepscore.plan.engine import Goal
from keepscore.plan.models import YearPlan
from keepscore.plan.selectors import plan_report

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def client_of(demo, **role) -> Client:
    client = Client()
    member = Membership.objects.filter(organization=demo, **role).first()
    client.force_login(member.user)
    return client


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_page_states_each_assumption_and_its_source(demo):
    page = client_of(demo, is_owner=True).get("/o/plan-demo/plan/?year=2027")
    assert page.status_code == 200
    html = page.content.decode()
    report = plan_report(organization=demo, year=2027)
    for name in ("to_qualified", "to_proposal", "to_customer", "deal_value"):
        assert f'name="{name}"' in html
        assert unescape(report.measured.sources[name]) in text(html)
    assert "Set the year's goal" in text(html)
    assert 'hx-get="/o/plan-demo/plan/"' in html  # every change redraws the plan


def test_a_what_if_is_redrawn_and_saves_nothing(demo):
    client = client_of(demo, is_owner=True)
    query = "/o/plan-demo/plan/?year=2027&goal_kind=customers&goal_amount=120&to_customer=50"
    partial = client.get(query, **HTMX).content.decode()
    assert partial.lstrip().startswith('<section id="plan-result"')
    assert "what-if, not saved" in partial
    expected = plan_report(
        organization=demo, year=2027, goal=Goal("customers", 120), overrides={"to_customer": 0.5}
    )
    shown = float(re.search(r'data-leads="([\d.]+)"', partial).group(1))
    assert shown == pytest.approx(expected.plan.leads, abs=0.01)
    assert f"{round(expected.plan.leads):,} leads" in text(partial)
    assert "Raising" in partial and "more leads a month would" in partial
    assert not YearPlan.objects.filter(organization=demo).exists()


def test_save_stores_the_plan_and_bad_input_saves_nothing(demo):
    client = client_of(demo, is_marketing=True, is_owner=False)
    bad = client.post(
        "/o/plan-demo/plan/",
        {"year": "2027", "goal_kind": "customers", "goal_amount": "120", "to_customer": "lots"},
    )
    assert bad.status_code == 422 and "is not a number" in bad.content.decode()
    assert not YearPlan.objects.filter(organization=demo).exists()
    saved = client.post(
        "/o/plan-demo/plan/",
        {"year": "2027", "goal_kind": "customers", "goal_amount": "120", "to_customer": "45"},
    )
    assert saved.status_code == 302 and saved["Location"].endswith("?year=2027")
    stored = YearPlan.objects.get(organization=demo, year=2027)
    assert stored.overrides == {"to_customer": 0.45} and stored.goal_amount == 120
    again = client.get(saved["Location"]).content.decode()
    assert 'name="to_customer" id="a-to_customer" value="45"' in again


def test_a_sales_member_tries_but_cannot_save(demo):
    client = client_of(demo, is_owner=False, is_marketing=False)
    page = client.get("/o/plan-demo/plan/?year=2027").content.decode()
    assert "Save the plan" not in page
    refused = client.post(
        "/o/plan-demo/plan/", {"year": "2027", "goal_kind": "customers", "goal_amount": "1"}
    )
    assert refused.status_code == 403
    assert not YearPlan.objects.filter(organization=demo).exists()

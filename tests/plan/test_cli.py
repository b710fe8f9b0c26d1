"""``keepscore plan``: the same numbers as the API, what-if without saving, --save, and
clear errors."""

from __future__ import annotations

import json

import pytest

from keepscore.plan.engine import Goal
from keepscore.plan.models import YearPlan
from keepscore.plan.report_json import report_dict
from keepscore.plan.selectors import plan_report
from tests.cli.test_cli import error_line, invoke

pytestmark = pytest.mark.django_db


def test_the_json_is_the_apis_and_a_what_if_saves_nothing(demo):
    result = invoke("plan", "2027", "--org", demo.slug, "--customers", "120", "-f", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    expected = report_dict(
        plan_report(organization=demo, year=2027, goal=Goal("customers", 120)), demo.currency
    )
    assert body == json.loads(json.dumps(expected))
    assert not YearPlan.objects.filter(organization=demo).exists()
    what_if = invoke(
        "plan", "2027", "--org", demo.slug, "--customers", "120", "--set", "to_customer=50%",
        "-f", "json",
    )  # fmt: skip
    raised = json.loads(what_if.stdout)
    rate = body["assumptions"]["to_customer"]["value"]
    assert raised["plan"]["leads"] == pytest.approx(body["plan"]["leads"] * rate / 0.5)
    assert not YearPlan.objects.filter(organization=demo).exists()


def test_save_keeps_the_goal_and_what_was_set_then_set_adds_to_it(demo):
    saved = invoke(
        "plan", "2027", "--org", demo.slug, "--revenue", "500000", "--set", "to_proposal=0.6",
        "--save",
    )  # fmt: skip
    assert saved.exit_code == 0, saved.output
    assert "Saved the plan of 2027" in saved.stdout and "Each month" in saved.stdout
    stored = YearPlan.objects.get(organization=demo, year=2027)
    assert (stored.goal_kind, stored.goal_amount, stored.overrides) == (
        "revenue",
        500_000,
        {"to_proposal": 0.6},
    )
    more = json.loads(
        invoke("plan", "2027", "--org", demo.slug, "--set", "cycle_months=2", "-f", "json").stdout
    )
    assert more["overrides"] == {"to_proposal": 0.6, "cycle_months": 2}
    assert more["goal"] == {"kind": "revenue", "amount": 500_000}
    cleared = json.loads(
        invoke("plan", "2027", "--org", demo.slug, "--set", "to_proposal=", "-f", "json").stdout
    )
    assert cleared["overrides"] == {}


@pytest.mark.parametrize(
    "args, words",
    [
        (["--set", "to_customer=lots"], "to_customer: “lots” is not a number"),
        (["--set", "nothing"], "write NAME=VALUE"),
        (["--save"], "--save needs the goal"),
        (["--revenue", "5", "--customers", "5"], "give one goal"),
        (["--customers", "-3"], "goal_amount: A goal must be at least 0.01"),
    ],
)
def test_bad_input_is_one_clear_line(demo, args, words):
    assert words in error_line(invoke("plan", "2027", "--org", demo.slug, *args))
    assert not YearPlan.objects.filter(organization=demo).exists()

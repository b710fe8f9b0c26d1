"""The lead pages: dashboard, list, add/edit, a lead's page with its quick actions, the board."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import Activity, Objection
from keepscore.leads.models import (
    DealOutcome,
    Lead,
    LostReason,
    QualificationAnswer,
    QualificationCriterion,
    StageChange,
)
from keepscore.leads.selectors import LeadFilters, lead_list
from keepscore.leads.services import Outcome, lead_create, lead_move, qualification_set
from tests.conftest import channel, stage

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, org: Organization, **kwargs: Any) -> str:
    return reverse(name, kwargs={"org": org.slug, **kwargs})


def make_lead(org: Organization, name: str, *, by: Membership | None = None, **kw: Any) -> Lead:
    kw.setdefault("channel", channel(org))
    return lead_create(organization=org, name=name, by=by, **kw)


def listed(response: Any) -> set[str]:
    return {lead.name for lead in response.context["page_obj"].object_list}


def tick_all(lead: Lead, by: Membership) -> None:
    for c in QualificationCriterion.objects.for_org(lead.organization):
        qualification_set(lead=lead, criterion=c, met=True, by=by)


# --- tenancy and methods --------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client: Any, org_a: Organization) -> None:
    response = client.get(url("lead_list", org_a))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_another_organizations_slug_is_404(
    client_a: Any, org_b: Organization, lead_b: Lead
) -> None:
    for name in ("dashboard", "lead_list", "lead_add", "lead_board"):
        assert client_a.get(url(name, org_b)).status_code == 404, name
    # the organization is checked before the method: no 405 that hints the URL exists
    for name in ("lead_move", "activity_log", "lead_board_move"):
        target = url(name, org_b, pk=lead_b.pk)
        assert client_a.get(target).status_code == 404, name
        assert client_a.post(target, {"to_stage": lead_b.stage_id}).status_code == 404, name
    assert client_a.post(url("lead_add", org_b), {"name": "x"}).status_code == 404
    assert Lead.objects.count() == 1


def test_another_organizations_lead_is_404_everywhere(
    client_a: Any, org_a: Organization, lead_b: Lead
) -> None:
    pk = lead_b.pk
    assert client_a.get(url("lead_detail", org_a, pk=pk)).status_code == 404
    assert client_a.get(url("lead_edit", org_a, pk=pk)).status_code == 404
    prospect = stage(org_a, "prospect").pk
    posts = [
        (url("lead_edit", org_a, pk=pk), {"name": "Hijacked"}),
        (url("lead_move", org_a, pk=pk), {"to_stage": prospect}),
        (url("activity_log", org_a, pk=pk), {"kind": "call_attempt"}),
        (url("objection_add", org_a, pk=pk), {"tag": "price"}),
        (url("lead_board_move", org_a, pk=pk), {"to_stage": prospect}),
    ]
    for target, data in posts:
        assert client_a.post(target, data).status_code == 404, target
    criterion = QualificationCriterion.objects.for_org(org_a).first()
    assert criterion is not None
    qualify = url("lead_qualify", org_a, pk=pk, criterion_pk=criterion.pk)
    assert client_a.post(qualify, {"met": "1"}).status_code == 404
    lead_b.refresh_from_db()
    assert lead_b.name == "Bob Bravo"
    assert StageChange.objects.filter(lead=lead_b).count() == 1
    assert not Activity.objects.filter(lead=lead_b).exists()
    assert not Objection.objects.filter(lead=lead_b).exists()
    assert not QualificationAnswer.objects.filter(lead=lead_b).exists()


def test_another_organizations_criterion_is_404(
    client_a: Any, org_a: Organization, org_b: Organization, lead_a: Lead
) -> None:
    criterion_b = QualificationCriterion.objects.for_org(org_b).first()
    assert criterion_b is not None
    response = client_a.post(
        url("lead_qualify", org_a, pk=lead_a.pk, criterion_pk=criterion_b.pk), {"met": "1"}
    )
    assert response.status_code == 404
    assert not QualificationAnswer.objects.exists()


def test_post_only_urls_refuse_get(client_a: Any, org_a: Organization, lead_a: Lead) -> None:
    criterion = QualificationCriterion.objects.for_org(org_a).first()
    assert criterion is not None
    for target in (
        url("lead_move", org_a, pk=lead_a.pk),
        url("lead_qualify", org_a, pk=lead_a.pk, criterion_pk=criterion.pk),
        url("activity_log", org_a, pk=lead_a.pk),
        url("objection_add", org_a, pk=lead_a.pk),
        url("lead_board_move", org_a, pk=lead_a.pk),
    ):
        assert client_a.get(target).status_code == 405, target


def test_unknown_lead_is_404(client_a: Any, org_a: Organization, lead_a: Lead) -> None:
    assert client_a.get(url("lead_detail", org_a, pk=999_999)).status_code == 404
    assert client_a.post(url("lead_detail", org_a, pk=999_999)).status_code == 404
    assert client_a.post(url("lead_detail", org_a, pk=lead_a.pk)).status_code == 405


# --- dashboard ------------------------------------------------------------------------------------


def stat_tile(html: str, key: str) -> tuple[int, int]:
    """(now at the stage, entered this month) from the dashboard's tile for ``key``."""
    match = re.search(
        rf'data-stage="{key}".*?class="value"[^>]*>(\d+)<.*?class="entered"[^>]*>(\d+) ',
        html,
        re.S,
    )
    assert match, key
    return int(match.group(1)), int(match.group(2))


def test_dashboard_counts_by_stage(client_a: Any, org_a: Organization, owner_a: Membership) -> None:
    for name in ("One", "Two", "Three"):
        make_lead(org_a, name, by=owner_a)
    moved = make_lead(org_a, "Moved", by=owner_a)
    lead_move(lead=moved, to_stage=stage(org_a, "prospect"), by=owner_a)
    response = client_a.get(url("dashboard", org_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert stat_tile(html, "suspect") == (3, 4)  # four entered, one moved on
    assert stat_tile(html, "prospect") == (1, 1)
    assert stat_tile(html, "customer") == (0, 0)
    assert 'id="scorecard-summary"' in html  # this month's scorecard (tests/scorecard)
    # the focus card is loaded after the page (tests/focus)
    assert f'hx-get="/o/{org_a.slug}/focus/card/"' in html
    newest = [lead.name for lead in response.context["newest"]]
    assert newest[0] == "Moved" and set(newest) == {"One", "Two", "Three", "Moved"}


def test_dashboard_lists_only_ten_newest_of_this_organization(
    client_a: Any, org_a: Organization, lead_b: Lead
) -> None:
    now = timezone.now()
    for i in range(12):
        make_lead(org_a, f"Lead {i:02}", first_touch_at=now - timedelta(days=i))
    newest = [lead.name for lead in client_a.get(url("dashboard", org_a)).context["newest"]]
    assert newest == [f"Lead {i:02}" for i in range(10)]
    assert "Bob Bravo" not in newest


# --- the list -------------------------------------------------------------------------------------


@pytest.fixture
def spread(org_a: Organization, owner_a: Membership, sales_a: Membership) -> dict[str, Lead]:
    """Leads in different stages, channels, owners and first-touch dates."""
    now = timezone.now()
    leads = {
        "walkin": make_lead(
            org_a, "Wally Walkin", channel=channel(org_a, "walk-in"), owner=owner_a
        ),
        "phone": make_lead(
            org_a,
            "Phoebe Phone",
            channel=channel(org_a, "phone-enquiry"),
            company="Ringo Ltd",
            owner=sales_a,
            first_touch_at=now - timedelta(days=40),
        ),
        "referral": make_lead(
            org_a,
            "Rita Referral",
            email="rita@example.test",
            first_touch_at=now - timedelta(days=10),
        ),
    }
    lead_move(lead=leads["referral"], to_stage=stage(org_a, "lead"), by=owner_a)
    return leads


def test_list_shows_the_organizations_leads(
    client_a: Any, org_a: Organization, spread: dict[str, Lead], lead_b: Lead
) -> None:
    response = client_a.get(url("lead_list", org_a))
    assert response.status_code == 200
    assert listed(response) == {"Wally Walkin", "Phoebe Phone", "Rita Referral"}
    html = response.content.decode()
    assert "Ringo Ltd" in html and "Phone enquiry" in html
    assert url("lead_add", org_a) in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "lead"}, {"Rita Referral"}),
        ({"stage": "suspect"}, {"Wally Walkin", "Phoebe Phone"}),
        ({"channel": "walk-in"}, {"Wally Walkin"}),
        ({"owner": "sales"}, {"Phoebe Phone"}),
        ({"q": "ringo"}, {"Phoebe Phone"}),
        ({"q": "rita@example"}, {"Rita Referral"}),
        ({"q": "nobody-by-that-name"}, set()),
        ({"created_from": -15}, {"Wally Walkin", "Rita Referral"}),
        ({"created_to": -15}, {"Phoebe Phone"}),
        ({"created_from": -45, "created_to": -5}, {"Phoebe Phone", "Rita Referral"}),
        ({"stage": "suspect", "channel": "phone-enquiry"}, {"Phoebe Phone"}),
    ],
)
def test_list_filters(
    client_a: Any,
    org_a: Organization,
    sales_a: Membership,
    spread: dict[str, Lead],
    params: dict[str, Any],
    expected: set[str],
) -> None:
    today = timezone.localdate()
    query: dict[str, Any] = {}
    for key, value in params.items():
        if key == "stage":
            query[key] = stage(org_a, value).pk
        elif key == "channel":
            query[key] = channel(org_a, value).pk
        elif key == "owner":
            query[key] = sales_a.pk
        elif key.startswith("created"):
            query[key] = (today + timedelta(days=value)).isoformat()
        else:
            query[key] = value
    response = client_a.get(url("lead_list", org_a), query)
    assert response.status_code == 200
    assert listed(response) == expected


@pytest.mark.parametrize(
    "query",
    [
        {"stage": "not-a-number"},
        {"stage": "999999"},
        {"created_from": "31/31/2024"},
        {"created_from": "2024-05-02", "created_to": "2024-05-01"},
        {"page": "abc"},
    ],
)
def test_list_invalid_filters_show_an_error_not_a_500(
    client_a: Any, org_a: Organization, spread: dict[str, Lead], query: dict[str, str]
) -> None:
    response = client_a.get(url("lead_list", org_a), query)
    assert response.status_code == 200
    if "page" not in query:
        assert response.context["form"].errors
        assert 'class="error"' in response.content.decode()
    # the invalid filter is left out, so the leads still show
    assert len(listed(response)) == 3


@pytest.mark.parametrize(
    "query",
    [
        {"created_to": "9999-12-31"},  # "the day after" overflowed: a 500
        {"created_from": "0001-01-01"},  # overflowed when converted from a time zone east of UTC
        {"created_from": "9999-12-31", "created_to": "9999-12-31"},
    ],
)
def test_list_dates_at_the_ends_of_the_calendar_are_a_field_error_not_a_500(
    client_a: Any, org_a: Organization, spread: dict[str, Lead], query: dict[str, str]
) -> None:
    response = client_a.get(url("lead_list", org_a), query)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == set(query)
    assert "Enter a date between 1900-01-01 and 2999-12-31." in response.content.decode()
    assert len(listed(response)) == 3


def test_lead_list_selector_takes_the_last_day_of_the_calendar(
    org_a: Organization, spread: dict[str, Lead]
) -> None:
    filters = LeadFilters(created_to=date.max)
    assert lead_list(organization=org_a, filters=filters).count() == 3


def test_list_refuses_another_organizations_stage_as_filter(
    client_a: Any, org_a: Organization, org_b: Organization, spread: dict[str, Lead]
) -> None:
    response = client_a.get(url("lead_list", org_a), {"stage": stage(org_b, "suspect").pk})
    assert "stage" in response.context["form"].errors
    assert len(listed(response)) == 3


def test_list_paginates_by_fifty_and_keeps_filters(client_a: Any, org_a: Organization) -> None:
    for i in range(55):
        make_lead(org_a, f"Walker {i}", channel=channel(org_a, "walk-in"))
    make_lead(org_a, "Someone else")
    walk_in = channel(org_a, "walk-in").pk
    first = client_a.get(url("lead_list", org_a), {"channel": walk_in})
    assert len(first.context["page_obj"].object_list) == 50
    assert first.context["page_obj"].paginator.count == 55
    html = first.content.decode()
    assert f"?channel={walk_in}&amp;page=2" in html
    second = client_a.get(url("lead_list", org_a), {"channel": walk_in, "page": 2})
    names = listed(second)
    assert len(names) == 5 and "Someone else" not in names
    assert not listed(first) & names


def test_list_query_count_does_not_grow_with_leads(
    client_a: Any,
    org_a: Organization,
    owner_a: Membership,
    sales_a: Membership,
    django_assert_max_num_queries: Any,
) -> None:
    make_lead(org_a, "Only one", owner=owner_a)
    with CaptureQueriesContext(connection) as one:
        client_a.get(url("lead_list", org_a))
    for i in range(30):
        make_lead(
            org_a,
            f"Lead {i}",
            owner=sales_a if i % 2 else owner_a,
            channel=channel(org_a, "walk-in" if i % 3 else "referral"),
            stage=stage(org_a, "lead" if i % 2 else "prospect"),
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client_a.get(url("lead_list", org_a), {"q": "Lead"})
    assert len(listed(response)) == 30
    # session, user, member, organizations, the filter choices, count and page: no N+1
    with django_assert_max_num_queries(14):
        response = client_a.get(url("lead_list", org_a))
    assert len(listed(response)) == 31


# --- adding and editing ---------------------------------------------------------------------------


def test_add_lead_with_only_a_name_and_a_source(
    client_a: Any, org_a: Organization, owner_a: Membership
) -> None:
    page = client_a.get(url("lead_add", org_a))
    assert page.status_code == 200
    assert 'name="name"' in page.content.decode()
    response = client_a.post(
        url("lead_add", org_a), {"name": "Walk-in Wendy", "channel": channel(org_a, "walk-in").pk}
    )
    lead = Lead.objects.for_org(org_a).get(name="Walk-in Wendy")
    assert response.status_code == 302
    assert response["Location"] == url("lead_detail", org_a, pk=lead.pk)
    assert lead.channel.key == "walk-in"
    assert lead.stage.key == "suspect"
    assert lead.owner is None
    changes = StageChange.objects.filter(lead=lead)
    assert changes.count() == 1
    first = changes.get()
    assert first.from_stage is None and first.by == owner_a.user
    followed = client_a.get(response["Location"])
    assert "Lead Walk-in Wendy added." in followed.content.decode()


def test_add_lead_with_everything(client_a: Any, org_a: Organization, sales_a: Membership) -> None:
    client_a.post(
        url("lead_add", org_a),
        {
            "name": "  Full Fiona ",
            "channel": channel(org_a, "trade-show").pk,
            "company": "Fiona & Co",
            "email": "fiona@example.test",
            "phone": "+44 1234",
            "value": "1500.50",
            "owner": sales_a.pk,
            "campaign": "Spring fair",
            "notes": "Met at the stand.",
        },
    )
    lead = Lead.objects.for_org(org_a).get()
    assert lead.name == "Full Fiona"
    assert lead.value == Decimal("1500.50")
    assert lead.owner == sales_a
    assert lead.campaign == "Spring fair"


def test_add_lead_without_a_name_shows_the_error_and_creates_nothing(
    client_a: Any, org_a: Organization
) -> None:
    response = client_a.post(url("lead_add", org_a), {"name": "  ", "channel": channel(org_a).pk})
    assert response.status_code == 422
    assert "A lead needs a name." in response.content.decode()
    assert not Lead.objects.exists()
    assert not StageChange.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "No source"},
        {"name": "Bad value", "value": "-5"},
        {"name": "Bad email", "email": "not-an-email"},
    ],
)
def test_add_lead_invalid_input_creates_nothing(
    client_a: Any, org_a: Organization, data: dict[str, str]
) -> None:
    if "value" in data or "email" in data:
        data = {**data, "channel": str(channel(org_a).pk)}
    response = client_a.post(url("lead_add", org_a), data)
    assert response.status_code == 422
    assert response.context["form"].errors
    assert not Lead.objects.exists()


def test_add_lead_refuses_another_organizations_channel_and_member(
    client_a: Any, org_a: Organization, org_b: Organization, owner_b: Membership
) -> None:
    response = client_a.post(
        url("lead_add", org_a), {"name": "Sneaky", "channel": channel(org_b).pk}
    )
    assert response.status_code == 422
    assert "channel" in response.context["form"].errors
    response = client_a.post(
        url("lead_add", org_a),
        {"name": "Sneaky", "channel": channel(org_a).pk, "owner": owner_b.pk},
    )
    assert "owner" in response.context["form"].errors
    assert not Lead.objects.filter(name="Sneaky").exists()


def test_add_lead_offers_only_active_channels(client_a: Any, org_a: Organization) -> None:
    retired = channel(org_a, "telemarketing")
    retired.active = False
    retired.save()
    response = client_a.post(url("lead_add", org_a), {"name": "Old", "channel": retired.pk})
    assert "channel" in response.context["form"].errors
    assert "Telemarketing" not in client_a.get(url("lead_add", org_a)).content.decode()


def test_edit_lead_changes_details_but_never_the_source(
    client_a: Any, org_a: Organization, lead_a: Lead, sales_a: Membership
) -> None:
    page = client_a.get(url("lead_edit", org_a, pk=lead_a.pk))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="Ada Lovelace"' in html
    assert "Referral" in html and 'name="channel"' not in html
    response = client_a.post(
        url("lead_edit", org_a, pk=lead_a.pk),
        {
            "name": "Ada King",
            "company": "Analytical Engines",
            "value": "900",
            "owner": sales_a.pk,
            "channel": channel(org_a, "ads").pk,
            "campaign": "changed",
        },
    )
    assert response.status_code == 302
    lead_a.refresh_from_db()
    assert lead_a.name == "Ada King"
    assert lead_a.company == "Analytical Engines"
    assert lead_a.value == Decimal("900")
    assert lead_a.owner == sales_a
    assert lead_a.channel.key == "referral"
    assert lead_a.campaign == ""


def test_edit_lead_invalid_shows_errors(client_a: Any, org_a: Organization, lead_a: Lead) -> None:
    response = client_a.post(url("lead_edit", org_a, pk=lead_a.pk), {"name": ""})
    assert response.status_code == 422
    assert "A lead needs a name." in response.content.decode()
    lead_a.refresh_from_db()
    assert lead_a.name == "Ada Lovelace"


# --- a lead's page --------------------------------------------------------------------------------


def test_lead_page_shows_header_and_timeline(
    client_a: Any, org_a: Organization, owner_a: Membership
) -> None:
    lead = make_lead(
        org_a,
        "Tim Line",
        by=owner_a,
        company="Clockworks",
        email="tim@example.test",
        value=Decimal("1200"),
        campaign="Autumn",
        utm_source="newsletter",
        owner=owner_a,
    )
    lead_move(lead=lead, to_stage=stage(org_a, "prospect"), by=owner_a, note="Replied by mail")
    client_a.post(
        url("activity_log", org_a, pk=lead.pk),
        {"kind": "meeting", "with_buyer": "on", "outcome": "Wants a quote"},
    )
    client_a.post(url("objection_add", org_a, pk=lead.pk), {"tag": "price", "text": "Too dear"})
    lead_move(
        lead=lead,
        to_stage=stage(org_a, "customer"),
        by=owner_a,
        outcome=Outcome(revenue=Decimal("1000"), cost=Decimal("400")),
    )
    response = client_a.get(url("lead_detail", org_a, pk=lead.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Tim Line",
        "Clockworks",
        "Referral · Autumn",
        "newsletter",
        "tim@example.test",
        "1,200.00",
        "Replied by mail",
        "Meeting",
        "sales conversation",
        "Wants a quote",
        "Price",
        "Too dear",
        "Won: revenue €1,000.00, cost €400.00, margin €600.00",
    ):
        assert text in html, text
    kinds = [entry.kind for entry in response.context["timeline"]]
    assert sorted(kinds) == sorted(
        ["stage_change", "stage_change", "stage_change", "activity", "objection"]
    )
    assert html.index("Won: revenue") < html.index("Replied by mail")  # newest first


def test_lead_page_previews_the_target_stage(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    qualified = stage(org_a, "qualified")
    response = client_a.get(url("lead_detail", org_a, pk=lead_a.pk), {"to_stage": qualified.pk})
    html = response.content.decode()
    assert "How we sell at Qualified" in html
    assert qualified.exit_criteria in html
    # the missing items are listed once, as boxes to tick where the move happens
    start = html.index('id="move-panel"')
    panel_html = html[start : html.index("</section>", start)]
    assert "needs the qualification checklist" in panel_html
    assert panel_html.count("Fits our ideal customer profile") == 1
    assert 'name="criteria"' in panel_html and "All met: move to Qualified" in panel_html
    assert 'name="revenue"' not in html and 'name="lost_reason"' not in html
    assert 'name="override_reason"' in html  # the owner may override
    # htmx asks only for the panel
    panel = client_a.get(
        url("lead_detail", org_a, pk=lead_a.pk),
        {"to_stage": stage(org_a, "customer").pk},
        HTTP_HX_TARGET="move-panel",
        **HTMX,
    )
    part = panel.content.decode()
    assert part.lstrip().startswith('<section class="card move-panel" id="move-panel"')
    assert "<html" not in part
    assert 'name="revenue"' in part and 'name="lost_reason"' not in part
    # a bogus preview is ignored
    assert (
        client_a.get(url("lead_detail", org_a, pk=lead_a.pk), {"to_stage": "x"}).status_code == 200
    )


# --- moving ---------------------------------------------------------------------------------------


def move(client: Any, org: Organization, lead: Lead, key: str, **data: Any) -> Any:
    return client.post(url("lead_move", org, pk=lead.pk), {"to_stage": stage(org, key).pk, **data})


def test_move_writes_one_stage_change(
    client_a: Any, org_a: Organization, lead_a: Lead, owner_a: Membership
) -> None:
    response = move(client_a, org_a, lead_a, "prospect", note="Called back")
    assert response.status_code == 302
    assert response["Location"] == url("lead_detail", org_a, pk=lead_a.pk)
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "prospect"
    change = StageChange.objects.filter(lead=lead_a).latest("at", "id")
    assert StageChange.objects.filter(lead=lead_a).count() == 2
    assert change.from_stage == stage(org_a, "suspect")
    assert change.note == "Called back" and change.by == owner_a.user


def test_move_with_htmx_redirects_the_client(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    response = client_a.post(
        url("lead_move", org_a, pk=lead_a.pk), {"to_stage": stage(org_a, "lead").pk}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == url("lead_detail", org_a, pk=lead_a.pk)
    assert StageChange.objects.filter(lead=lead_a).count() == 2


def test_won_without_revenue_shows_the_error_and_writes_nothing(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    response = move(client_a, org_a, lead_a, "customer")
    assert response.status_code == 422
    assert response.context["move_form"].errors["revenue"] == ["A won deal needs its revenue."]
    assert "A won deal needs its revenue." in response.content.decode()
    assert StageChange.objects.filter(lead=lead_a).count() == 1
    assert not DealOutcome.objects.exists()
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "suspect"


def test_won_with_revenue_and_cost_records_the_outcome(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    response = move(client_a, org_a, lead_a, "customer", revenue="2500", cost="1000")
    assert response.status_code == 302
    outcome = DealOutcome.objects.get(lead=lead_a)
    assert outcome.result == "won"
    assert (outcome.revenue, outcome.cost, outcome.margin) == (
        Decimal("2500"),
        Decimal("1000"),
        Decimal("1500"),
    )


def test_lost_without_reason_shows_the_error_and_writes_nothing(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    response = move(client_a, org_a, lead_a, "lost", lost_note="They went quiet")
    assert response.status_code == 422
    assert "A lost lead needs a reason." in response.content.decode()
    assert "lost_reason" in response.context["move_form"].errors
    assert StageChange.objects.filter(lead=lead_a).count() == 1
    assert not DealOutcome.objects.exists()


def test_lost_with_reason_records_it(client_a: Any, org_a: Organization, lead_a: Lead) -> None:
    reason = LostReason.objects.for_org(org_a).get(name="Bad timing")
    response = move(client_a, org_a, lead_a, "lost", lost_reason=reason.pk, lost_note="Next year")
    assert response.status_code == 302
    outcome = DealOutcome.objects.get(lead=lead_a)
    assert (outcome.result, outcome.lost_reason, outcome.lost_note) == ("lost", reason, "Next year")
    html = client_a.get(url("lead_detail", org_a, pk=lead_a.pk)).content.decode()
    assert "Lost: Bad timing — Next year" in html


def test_lost_reason_of_another_organization_is_refused(
    client_a: Any, org_a: Organization, org_b: Organization, lead_a: Lead
) -> None:
    theirs = LostReason.objects.for_org(org_b).first()
    assert theirs is not None
    response = move(client_a, org_a, lead_a, "lost", lost_reason=theirs.pk)
    assert response.status_code == 422
    assert "lost_reason" in response.context["move_form"].errors
    assert not DealOutcome.objects.exists()


@pytest.mark.parametrize("to_stage", ["", "abc", "999999", "current", "other-org"])
def test_move_to_an_impossible_stage_is_an_error_not_a_500(
    client_a: Any, org_a: Organization, org_b: Organization, lead_a: Lead, to_stage: str
) -> None:
    value = {
        "current": str(lead_a.stage_id),
        "other-org": str(stage(org_b, "prospect").pk),
    }.get(to_stage, to_stage)
    response = client_a.post(url("lead_move", org_a, pk=lead_a.pk), {"to_stage": value})
    assert response.status_code == 422
    assert "to_stage" in response.context["move_form"].errors
    assert StageChange.objects.filter(lead=lead_a).count() == 1


@pytest.mark.parametrize("criterion", ["9" * 25, "-1", "x", "0"])
def test_a_checklist_item_no_one_has_is_an_error_not_a_500(
    client_a: Any, org_a: Organization, lead_a: Lead, criterion: str
) -> None:
    # the id of a criterion that cannot exist (25 nines overflowed SQLite's integer: a 500)
    data = {"to_stage": stage(org_a, "qualified").pk, "criteria": [criterion]}
    response = client_a.post(url("lead_move", org_a, pk=lead_a.pk), data)
    assert response.status_code == 422
    assert "criteria" in response.context["move_form"].errors
    assert StageChange.objects.filter(lead=lead_a).count() == 1


def test_move_error_with_htmx_returns_the_panel(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    response = client_a.post(
        url("lead_move", org_a, pk=lead_a.pk), {"to_stage": stage(org_a, "customer").pk}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="move-panel"' in html and "<html" not in html
    assert "A won deal needs its revenue." in html
    assert StageChange.objects.filter(lead=lead_a).count() == 1


def test_qualification_gate_lists_the_missing_criteria(
    client_a: Any, org_a: Organization, lead_a: Lead, owner_a: Membership
) -> None:
    met = QualificationCriterion.objects.for_org(org_a).get(text__startswith="Fits our")
    qualification_set(lead=lead_a, criterion=met, met=True, by=owner_a)
    response = move(client_a, org_a, lead_a, "qualified")
    assert response.status_code == 422
    error = response.context["move_form"].errors["to_stage"][0]
    assert error.startswith("Not qualified yet. Missing:")
    for text in (
        "Talking to the person with authority to buy",
        "Has a need we can meet",
        "Ready to decide within 3 months",
    ):
        assert text in error
    assert "Fits our ideal customer profile" not in error
    missing = [c.text for c in response.context["gate_missing"]]
    assert len(missing) == 3
    assert StageChange.objects.filter(lead=lead_a).count() == 1


def test_qualified_lead_passes_the_gate(
    client_a: Any, org_a: Organization, lead_a: Lead, owner_a: Membership
) -> None:
    tick_all(lead_a, owner_a)
    assert move(client_a, org_a, lead_a, "proposal").status_code == 302
    change = StageChange.objects.filter(lead=lead_a).latest("at", "id")
    assert change.to_stage.key == "proposal" and not change.qualification_override


def test_owner_may_override_the_gate_with_a_reason(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    response = move(client_a, org_a, lead_a, "qualified", override_reason="Owner knows them")
    assert response.status_code == 302
    change = StageChange.objects.filter(lead=lead_a).latest("at", "id")
    assert change.qualification_override
    assert change.override_reason == "Owner knows them"
    html = client_a.get(url("lead_detail", org_a, pk=lead_a.pk)).content.decode()
    assert "Qualification checklist overridden: Owner knows them" in html


def test_sales_member_cannot_override_the_gate(
    client: Any, org_a: Organization, lead_a: Lead, sales_a: Membership
) -> None:
    client.force_login(sales_a.user)
    page = client.get(
        url("lead_detail", org_a, pk=lead_a.pk), {"to_stage": stage(org_a, "qualified").pk}
    )
    assert 'name="override_reason"' not in page.content.decode()
    response = move(client, org_a, lead_a, "qualified", override_reason="I just feel it")
    assert response.status_code == 422
    assert "Only an owner may override the qualification checklist." in response.content.decode()
    assert StageChange.objects.filter(lead=lead_a).count() == 1


# --- the qualification checklist ------------------------------------------------------------------


def test_checklist_toggles_with_htmx(client_a: Any, org_a: Organization, lead_a: Lead) -> None:
    criteria = list(QualificationCriterion.objects.for_org(org_a))
    target = url("lead_qualify", org_a, pk=lead_a.pk, criterion_pk=criteria[0].pk)
    response = client_a.post(target, {"met": ["0", "1"]}, **HTMX)  # hidden 0 + ticked box
    assert response.status_code == 200
    html = response.content.decode()
    # only the verdict is swapped: the boxes stay as the person ticked them
    assert html.lstrip().startswith('<p id="qualification-status"')
    assert 'type="checkbox"' not in html.split('id="move-gate"')[0]
    assert "Not qualified yet: 3 required items not ticked." in html
    assert QualificationAnswer.objects.get(lead=lead_a, criterion=criteria[0]).met
    for c in criteria[1:]:
        client_a.post(
            url("lead_qualify", org_a, pk=lead_a.pk, criterion_pk=c.pk), {"met": "1"}, **HTMX
        )
    response = client_a.post(
        url("lead_qualify", org_a, pk=lead_a.pk, criterion_pk=criteria[-1].pk),
        {"met": "1", "to_stage": stage(org_a, "qualified").pk},
        **HTMX,
    )
    html = response.content.decode()
    assert "All required criteria met" in html
    # the move panel's gate (a gated stage is chosen there) loses the ticked item's row, out of
    # band, and no other: what is ticked in the other rows stays
    last = criteria[-1].pk
    assert f'<span id="gate-c{last}" hx-swap-oob="delete"></span>' in html
    assert html.count("hx-swap-oob") == 1
    response = client_a.post(
        target, {"met": "0", "to_stage": stage(org_a, "qualified").pk}, **HTMX
    )  # unticked box: only the hidden 0
    assert not QualificationAnswer.objects.get(lead=lead_a, criterion=criteria[0]).met
    html = response.content.decode()
    assert "Not qualified yet: 1 required item not ticked." in html
    # its row comes back in the gate, to tick where the move is
    assert f'<span id="gate-c{criteria[0].pk}" hx-swap-oob="delete"></span>' in html
    added = html.split('hx-swap-oob="beforeend:#gate-criteria"')[1]
    row = f'id="gate-c{criteria[0].pk}"><input type="checkbox" name="criteria"'
    assert f'{row} value="{criteria[0].pk}"' in added
    assert f'value="{criteria[1].pk}"' not in html
    # with no gated stage chosen in the move panel, nothing out of band
    response = client_a.post(target, {"met": "1"}, **HTMX)
    assert "hx-swap-oob" not in response.content.decode()


def test_checklist_without_js_sets_what_the_form_says(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    criterion = QualificationCriterion.objects.for_org(org_a).first()
    assert criterion is not None
    target = url("lead_qualify", org_a, pk=lead_a.pk, criterion_pk=criterion.pk)
    # the page sends the hidden "0" and, when ticked, the box's "1": the last one wins
    response = client_a.post(target, {"met": ["0", "1"]})
    assert response.status_code == 302
    assert response["Location"].endswith("#qualification")
    assert QualificationAnswer.objects.get(lead=lead_a, criterion=criterion).met
    client_a.post(target, {"met": ["0", "1"]})  # a double submit changes nothing
    assert QualificationAnswer.objects.get(lead=lead_a, criterion=criterion).met
    client_a.post(target, {"met": "0"})
    assert not QualificationAnswer.objects.get(lead=lead_a, criterion=criterion).met
    # no answer at all is refused, not guessed
    assert client_a.post(target).status_code == 422
    assert not QualificationAnswer.objects.get(lead=lead_a, criterion=criterion).met


# --- activities and objections --------------------------------------------------------------------


def test_log_activity_with_htmx_returns_timeline_and_cleared_form(
    client_a: Any, org_a: Organization, lead_a: Lead, owner_a: Membership
) -> None:
    response = client_a.post(
        url("activity_log", org_a, pk=lead_a.pk),
        {"kind": "connect", "with_buyer": "on", "outcome": "Interested", "notes": "Call Tuesday"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    activity = Activity.objects.get(lead=lead_a)
    assert activity.kind == "connect" and activity.is_sales_conversation
    assert activity.by == owner_a
    assert '<ol id="timeline" class="timeline" hx-swap-oob="true">' in html
    assert "Interested" in html  # in the refreshed timeline
    form_part = html.split('<ol id="timeline"')[0]
    assert "Connect logged." in form_part
    assert 'value="Interested"' not in form_part and "Call Tuesday" not in form_part


def test_log_activity_without_js(client_a: Any, org_a: Organization) -> None:
    lead = make_lead(org_a, "Earlier", first_touch_at=timezone.now() - timedelta(days=1))
    at = (timezone.localtime() - timedelta(minutes=30)).replace(second=0, microsecond=0)
    response = client_a.post(
        url("activity_log", org_a, pk=lead.pk),
        {"kind": "call_attempt", "at": at.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    # logged, the page asks for the next step
    assert response["Location"] == url("lead_detail", org_a, pk=lead.pk) + "#next-steps"
    activity = Activity.objects.get(lead=lead)
    assert activity.at == at and not activity.with_buyer


def test_log_activity_errors(client_a: Any, org_a: Organization, lead_a: Lead) -> None:
    target = url("activity_log", org_a, pk=lead_a.pk)
    response = client_a.post(target, {"kind": "dance"})
    assert response.status_code == 422
    assert "kind" in response.context["activity_form"].errors
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client_a.post(target, {"kind": "note", "at": future})
    assert response.status_code == 422  # the page again, the full form open at its error
    html = response.content.decode()
    assert "This date is in the future." in html and "<details open>" in html
    assert not Activity.objects.exists()


@pytest.mark.parametrize("at", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_log_activity_at_the_ends_of_the_calendar_is_a_field_error(
    client_a: Any, org_a: Organization, lead_a: Lead, at: str
) -> None:
    response = client_a.post(url("activity_log", org_a, pk=lead_a.pk), {"kind": "note", "at": at})
    assert response.status_code == 422
    assert response.context["activity_form"].errors["at"] == [
        "Enter a date between 1900-01-01 and 2999-12-31."
    ]
    assert not Activity.objects.exists()


def test_log_objection_with_htmx_and_without(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    target = url("objection_add", org_a, pk=lead_a.pk)
    response = client_a.post(target, {"tag": "competitor", "text": "Cheaper next door"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html and "Cheaper next door" in html
    assert "Objection “Competitor” logged." in html
    response = client_a.post(target, {"tag": "trust"})
    assert response.status_code == 302
    assert sorted(Objection.objects.filter(lead=lead_a).values_list("tag", flat=True)) == [
        "competitor",
        "trust",
    ]
    response = client_a.post(target, {"tag": "vibes"})
    assert response.status_code == 422
    assert "tag" in response.context["objection_form"].errors
    assert Objection.objects.count() == 2


# --- the board ------------------------------------------------------------------------------------


def test_board_shows_a_column_per_stage_with_counts(
    client_a: Any, org_a: Organization, owner_a: Membership, lead_b: Lead
) -> None:
    for name in ("S1", "S2"):
        make_lead(org_a, name, company=f"{name} Co", value=Decimal("100"))
    make_lead(org_a, "P1", stage=stage(org_a, "prospect"), channel=channel(org_a, "walk-in"))
    response = client_a.get(url("lead_board", org_a))
    assert response.status_code == 200
    counts = {c.stage.key: c.count for c, _cards in response.context["columns"]}
    assert counts == {
        "suspect": 2,
        "prospect": 1,
        "lead": 0,
        "qualified": 0,
        "proposal": 0,
        "customer": 0,
        "lost": 0,
    }
    html = response.content.decode()
    assert "S1 Co" in html and "Bob Bravo" not in html
    # each card says its lead; board.js posts to <board>/<lead>/move/
    assert f'data-lead="{Lead.objects.get(name="P1").pk}"' in html
    assert f'data-move-base="{url("lead_board", org_a)}"' in html
    totals = {c.stage.key: c.total for c, _cards in response.context["columns"]}
    assert totals["suspect"] == Decimal("200") and totals["prospect"] == 0
    filtered = client_a.get(url("lead_board", org_a), {"channel": channel(org_a, "walk-in").pk})
    counts = {c.stage.key: c.count for c, _cards in filtered.context["columns"]}
    assert counts["suspect"] == 0 and counts["prospect"] == 1
    bad = client_a.get(url("lead_board", org_a), {"channel": "nope"})
    assert bad.status_code == 200 and bad.context["filter_form"].errors


def test_board_move_with_htmx_returns_the_board(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    response = client_a.post(
        url("lead_board_move", org_a, pk=lead_a.pk),
        {"to_stage": stage(org_a, "prospect").pk},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"')
    assert "Ada Lovelace moved to Prospect." in html
    counts = {c.stage.key: c.count for c, _cards in response.context["columns"]}
    assert counts["suspect"] == 0 and counts["prospect"] == 1
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "prospect"
    assert StageChange.objects.filter(lead=lead_a).count() == 2


def test_board_move_without_js_keeps_the_filter(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    referral = channel(org_a).pk
    response = client_a.post(
        url("lead_board_move", org_a, pk=lead_a.pk),
        {"to_stage": stage(org_a, "lead").pk, "channel": referral},
    )
    assert response.status_code == 302
    assert response["Location"] == url("lead_board", org_a) + f"?channel={referral}"
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "lead"


@pytest.mark.parametrize(
    ("key", "needs"),
    [("customer", "Revenue"), ("lost", "Lost reason"), ("qualified", "needs the qualification")],
)
def test_board_move_needing_more_opens_the_move_form(
    client_a: Any, org_a: Organization, lead_a: Lead, key: str, needs: str
) -> None:
    target = stage(org_a, key)
    response = client_a.post(
        url("lead_board_move", org_a, pk=lead_a.pk), {"to_stage": target.pk}, **HTMX
    )
    # with htmx: the board again, and the lead page's move form for that stage in a dialog
    html = response.content.decode()
    assert StageChange.objects.filter(lead=lead_a).count() == 1
    dialog = html.split('<dialog id="move-dialog"')[1]
    assert f'<input type="hidden" name="to_stage" value="{target.pk}">' in dialog
    assert f'name="next" value="{url("lead_board", org_a)}"' in dialog and needs in dialog
    # finishing it there goes back to the board
    if key == "customer":
        done = client_a.post(
            url("lead_move", org_a, pk=lead_a.pk),
            {"to_stage": target.pk, "revenue": "900", "next": url("lead_board", org_a)},
            **HTMX,
        )
        assert done["HX-Redirect"] == url("lead_board", org_a)
    # without: the lead's page, the stage chosen
    expected = url("lead_detail", org_a, pk=lead_a.pk) + f"?to_stage={target.pk}#move-panel"
    plain = client_a.post(url("lead_board_move", org_a, pk=lead_a.pk), {"to_stage": target.pk})
    if key != "customer":
        assert plain.status_code == 302 and plain["Location"] == expected
        page = client_a.get(expected.split("#")[0]).content.decode()
        assert f"Moving Ada Lovelace to {target.name} needs more" in page and needs in page


def test_a_move_goes_back_only_to_the_board(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    response = client_a.post(
        url("lead_move", org_a, pk=lead_a.pk),
        {"to_stage": stage(org_a, "prospect").pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == url("lead_detail", org_a, pk=lead_a.pk)


def test_board_move_to_an_unknown_stage_says_so(
    client_a: Any, org_a: Organization, org_b: Organization, lead_a: Lead
) -> None:
    response = client_a.post(
        url("lead_board_move", org_a, pk=lead_a.pk),
        {"to_stage": stage(org_b, "prospect").pk},
        **HTMX,
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert StageChange.objects.filter(lead=lead_a).count() == 1


def test_later_touches_show_on_the_timeline(
    client_a: Any, org_a: Organization, lead_a: Lead
) -> None:
    from keepscore.leads.services import touch_add

    touch_add(
        lead=lead_a,
        channel=channel(org_a, "trade-show"),
        campaign="Spring fair",
        utm_source="fairsite",
    )
    page = client_a.get(url("lead_detail", org_a, pk=lead_a.pk)).content.decode()
    timeline = page.split('id="timeline"')[1]
    assert "Came back through <strong>Trade show</strong> · Spring fair" in timeline
    assert "fairsite" in timeline
    # the original source is unchanged
    assert "Referral" in page.split('id="about-h"')[1].split("</dl>")[0]

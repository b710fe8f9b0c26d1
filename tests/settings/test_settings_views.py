"""Settings pages: the ladder and playbook, qualification criteria, lost reasons, channels."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from keepscore.accounts.models import Membership, Organization
from keepscore.leads.models import (
    Channel,
    Group,
    LostReason,
    QualificationCriterion,
    Stage,
    StageKind,
)
from keepscore.leads.settings_services import lost_reason_save
from tests.conftest import channel, stage

pytestmark = pytest.mark.django_db


def url(name: str, org: Organization, **kw: Any) -> str:
    return reverse(name, kwargs={"org": org.slug, **kw})


def ladder_keys(org: Organization) -> list[str]:
    return list(Stage.objects.for_org(org).values_list("key", flat=True))


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


STAGE_POST = {
    "name": "Demo booked",
    "group": Group.LEAD,
    "kind": StageKind.OPEN,
    "playbook": "Show the product in 20 minutes.",
    "exit_criteria": "They saw the demo.",
}


# --- the ladder ------------------------------------------------------------------------


def test_ladder_lists_the_stages_in_order_with_their_playbook(client_a: Any, org_a: Any) -> None:
    response = client_a.get(url("settings_ladder", org_a))

    assert response.status_code == 200
    assert [s.key for s in response.context["stages"]] == [
        "suspect",
        "prospect",
        "lead",
        "qualified",
        "proposal",
        "customer",
        "lost",
    ]
    html = response.content.decode()
    assert "Someone who might need what we sell." in html  # playbook excerpt
    assert 'class="badge g-LEAD"' in html
    for sub in ("Ladder &amp; playbook", "Qualification", "Lost reasons", "Channels", "Members"):
        assert sub in html
    assert url("settings_stage_add", org_a) in html


def test_add_stage_puts_it_at_the_end_of_the_ladder(client_a: Any, org_a: Any) -> None:
    response = client_a.post(url("settings_stage_add", org_a), STAGE_POST)

    assert response.status_code == 302
    assert response["Location"] == url("settings_ladder", org_a)
    new = Stage.objects.for_org(org_a).get(name="Demo booked")
    assert ladder_keys(org_a)[-1] == "demo-booked"
    assert (new.group, new.kind, new.playbook, new.exit_criteria) == (
        Group.LEAD,
        StageKind.OPEN,
        "Show the product in 20 minutes.",
        "They saw the demo.",
    )


def test_add_stage_page_shows_a_form(client_a: Any, org_a: Any) -> None:
    response = client_a.get(url("settings_stage_add", org_a))

    assert response.status_code == 200
    assert 'name="playbook"' in response.content.decode()


@pytest.mark.parametrize(
    ("post", "field"),
    [
        ({**STAGE_POST, "name": "proposal"}, "name"),  # duplicate name, any case
        ({**STAGE_POST, "name": ""}, "name"),
        ({**STAGE_POST, "group": "NOPE"}, "group"),
        ({**STAGE_POST, "kind": "maybe"}, "kind"),
    ],
)
def test_add_stage_says_what_is_wrong_and_adds_nothing(
    client_a: Any, org_a: Any, post: dict[str, str], field: str
) -> None:
    before = ladder_keys(org_a)

    response = client_a.post(url("settings_stage_add", org_a), post)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert ladder_keys(org_a) == before


def test_edit_stage_saves_its_playbook_and_gate(client_a: Any, org_a: Any) -> None:
    lead = stage(org_a, "lead")
    page = client_a.get(url("settings_stage_edit", org_a, pk=lead.pk))
    assert page.status_code == 200
    assert page.context["form"].initial["playbook"] == lead.playbook

    response = client_a.post(
        url("settings_stage_edit", org_a, pk=lead.pk),
        {
            "name": "Conversation",
            "group": Group.LEAD,
            "kind": StageKind.OPEN,
            "requires_qualification": "on",
            "playbook": "Call within a day.",
            "exit_criteria": "A real conversation happened.",
        },
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.name == "Conversation"
    assert lead.key == "lead"  # the key stays: other records and imports rely on it
    assert lead.requires_qualification is True
    assert lead.playbook == "Call within a day."
    assert lead.exit_criteria == "A real conversation happened."


def test_the_ladder_keeps_a_won_stage(client_a: Any, org_a: Any) -> None:
    customer = stage(org_a, "customer")

    response = client_a.post(
        url("settings_stage_edit", org_a, pk=customer.pk),
        {"name": "Customer", "group": Group.CUSTOMER, "kind": StageKind.OPEN},
    )

    assert response.status_code == 200
    assert "won stage" in " ".join(response.context["form"].errors["kind"])
    customer.refresh_from_db()
    assert customer.kind == StageKind.WON


def test_a_stage_with_leads_keeps_its_kind(client_a: Any, org_a: Any, lead_a: Any) -> None:
    suspect = lead_a.stage

    response = client_a.post(
        url("settings_stage_edit", org_a, pk=suspect.pk),
        {"name": "Suspect", "group": Group.SUSPECT, "kind": StageKind.LOST},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["kind"]
    suspect.refresh_from_db()
    assert suspect.kind == StageKind.OPEN


def test_shift_moves_a_stage_up_and_down(client_a: Any, org_a: Any) -> None:
    lead = stage(org_a, "lead")

    response = client_a.post(url("settings_stage_shift", org_a, pk=lead.pk, direction="up"))

    assert response.status_code == 302
    assert ladder_keys(org_a)[:3] == ["suspect", "lead", "prospect"]
    assert list(Stage.objects.for_org(org_a).values_list("position", flat=True)) == [
        10,
        20,
        30,
        40,
        50,
        60,
        70,
    ]

    client_a.post(url("settings_stage_shift", org_a, pk=lead.pk, direction="down"))
    client_a.post(url("settings_stage_shift", org_a, pk=lead.pk, direction="down"))

    assert ladder_keys(org_a)[:4] == ["suspect", "prospect", "qualified", "lead"]


def test_shift_past_the_ends_changes_nothing(client_a: Any, org_a: Any) -> None:
    before = ladder_keys(org_a)

    client_a.post(url("settings_stage_shift", org_a, pk=stage(org_a, "suspect").pk, direction="up"))
    client_a.post(url("settings_stage_shift", org_a, pk=stage(org_a, "lost").pk, direction="down"))

    assert ladder_keys(org_a) == before


def test_shift_in_an_unknown_direction_is_404(client_a: Any, org_a: Any) -> None:
    before = ladder_keys(org_a)

    response = client_a.post(
        url("settings_stage_shift", org_a, pk=stage(org_a, "lead").pk, direction="sideways")
    )

    assert response.status_code == 404
    assert ladder_keys(org_a) == before


def test_delete_an_unused_stage(client_a: Any, org_a: Any) -> None:
    proposal = stage(org_a, "proposal")

    response = client_a.post(url("settings_stage_delete", org_a, pk=proposal.pk))

    assert response.status_code == 302
    assert "proposal" not in ladder_keys(org_a)
    assert any("deleted" in m for m in messages_of(response))


def test_delete_is_refused_while_leads_are_in_the_stage(
    client_a: Any, org_a: Any, lead_a: Any
) -> None:
    suspect = lead_a.stage

    response = client_a.post(url("settings_stage_delete", org_a, pk=suspect.pk), follow=True)

    assert Stage.objects.filter(pk=suspect.pk).exists()
    html = response.content.decode()
    assert "was not deleted" in html
    assert "Move its 1 lead first." in html


def test_delete_is_refused_for_the_only_lost_stage(client_a: Any, org_a: Any) -> None:
    lost = stage(org_a, "lost")

    response = client_a.post(url("settings_stage_delete", org_a, pk=lost.pk))

    assert Stage.objects.filter(pk=lost.pk).exists()
    assert any("needs a lost stage" in m for m in messages_of(response))


@pytest.mark.parametrize("name", ["settings_stage_delete", "settings_stage_shift"])
def test_post_only_urls_refuse_get(client_a: Any, org_a: Any, name: str) -> None:
    kw: dict[str, Any] = {"pk": stage(org_a, "proposal").pk}
    if name == "settings_stage_shift":
        kw["direction"] = "up"
    before = ladder_keys(org_a)

    response = client_a.get(url(name, org_a, **kw))

    assert response.status_code == 405
    assert ladder_keys(org_a) == before


def test_ladder_page_query_count_does_not_grow_with_stages(
    client_a: Any, org_a: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(10):
        client_a.post(url("settings_stage_add", org_a), {**STAGE_POST, "name": f"Step {i}"})

    with django_assert_max_num_queries(12):
        response = client_a.get(url("settings_ladder", org_a))

    assert len(response.context["stages"]) == 17


# --- qualification criteria --------------------------------------------------------------


def test_add_criterion(client_a: Any, org_a: Any) -> None:
    response = client_a.post(
        url("settings_qualification", org_a),
        {"text": "Has a budget", "required": "on", "active": "on"},
    )

    assert response.status_code == 302
    c = QualificationCriterion.objects.for_org(org_a).get(text="Has a budget")
    assert (c.required, c.active, c.position) == (True, True, 5)
    assert "Has a budget" in client_a.get(url("settings_qualification", org_a)).content.decode()


def test_add_criterion_needs_its_text(client_a: Any, org_a: Any) -> None:
    before = QualificationCriterion.objects.for_org(org_a).count()

    response = client_a.post(url("settings_qualification", org_a), {"text": "   "})

    assert response.status_code == 200
    assert response.context["form"].errors["text"]
    assert QualificationCriterion.objects.for_org(org_a).count() == before


def test_edit_and_deactivate_a_criterion(client_a: Any, org_a: Any) -> None:
    c = QualificationCriterion.objects.for_org(org_a).first()
    assert c is not None
    page = client_a.get(url("settings_criterion_edit", org_a, pk=c.pk))
    assert page.status_code == 200
    assert page.context["form"].initial == {"text": c.text, "required": True, "active": True}

    # unchecked boxes are not sent: optional and inactive
    response = client_a.post(
        url("settings_criterion_edit", org_a, pk=c.pk), {"text": "Talks to who decides"}
    )

    assert response.status_code == 302
    c.refresh_from_db()
    assert (c.text, c.required, c.active) == ("Talks to who decides", False, False)


# --- lost reasons ------------------------------------------------------------------------


def test_add_and_edit_a_lost_reason(client_a: Any, org_a: Any) -> None:
    response = client_a.post(
        url("settings_lost_reasons", org_a), {"name": "Went with in-house", "active": "on"}
    )
    assert response.status_code == 302
    reason = LostReason.objects.for_org(org_a).get(name="Went with in-house")
    assert reason.active

    response = client_a.post(
        url("settings_lost_reason_edit", org_a, pk=reason.pk), {"name": "Built it in-house"}
    )

    assert response.status_code == 302
    reason.refresh_from_db()
    assert (reason.name, reason.active) == ("Built it in-house", False)


def test_duplicate_lost_reason_is_a_field_error(client_a: Any, org_a: Any) -> None:
    before = LostReason.objects.for_org(org_a).count()

    response = client_a.post(
        url("settings_lost_reasons", org_a), {"name": "price too high", "active": "on"}
    )

    assert response.status_code == 200
    assert "already a lost reason" in " ".join(response.context["form"].errors["name"])
    assert LostReason.objects.for_org(org_a).count() == before


def test_renaming_a_reason_onto_another_changes_nothing(client_a: Any, org_a: Any) -> None:
    reason = lost_reason_save(organization=org_a, name="Moved away")

    response = client_a.post(
        url("settings_lost_reason_edit", org_a, pk=reason.pk), {"name": "No budget"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert "Moved away" in response.content.decode()  # the title is the saved name
    reason.refresh_from_db()
    assert reason.name == "Moved away"


# --- channels ------------------------------------------------------------------------------


def test_add_a_channel(client_a: Any, org_a: Any) -> None:
    response = client_a.post(url("settings_channels", org_a), {"name": "Podcast", "active": "on"})

    assert response.status_code == 302
    podcast = Channel.objects.for_org(org_a).get(name="Podcast")
    assert (podcast.key, podcast.active) == ("podcast", True)


def test_duplicate_channel_name_is_a_field_error(client_a: Any, org_a: Any) -> None:
    before = Channel.objects.for_org(org_a).count()

    response = client_a.post(url("settings_channels", org_a), {"name": "REFERRAL", "active": "on"})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already a channel called REFERRAL" in " ".join(errors["name"])
    assert 'class="error"' in response.content.decode()
    assert Channel.objects.for_org(org_a).count() == before


def test_edit_and_deactivate_a_channel(client_a: Any, org_a: Any) -> None:
    ref = channel(org_a, "referral")

    response = client_a.post(url("settings_channel_edit", org_a, pk=ref.pk), {"name": "Referrals"})

    assert response.status_code == 302
    ref.refresh_from_db()
    assert (ref.name, ref.key, ref.active) == ("Referrals", "referral", False)


def test_channel_edit_refuses_another_channels_name(client_a: Any, org_a: Any) -> None:
    ref = channel(org_a, "referral")

    response = client_a.post(
        url("settings_channel_edit", org_a, pk=ref.pk), {"name": "walk-in", "active": "on"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    ref.refresh_from_db()
    assert ref.name == "Referral"


# --- who may see what ------------------------------------------------------------------------


def _pages(org: Organization) -> list[tuple[str, str]]:
    """Every settings page of ``org``: (method, url)."""
    s = Stage.objects.for_org(org).get(key="proposal")
    c = QualificationCriterion.objects.for_org(org).first()
    r = LostReason.objects.for_org(org).first()
    ch = Channel.objects.for_org(org).first()
    assert c is not None and r is not None and ch is not None
    return [
        ("get", url("settings_ladder", org)),
        ("get", url("settings_stage_add", org)),
        ("post", url("settings_stage_add", org)),
        ("get", url("settings_stage_edit", org, pk=s.pk)),
        ("post", url("settings_stage_edit", org, pk=s.pk)),
        ("post", url("settings_stage_shift", org, pk=s.pk, direction="up")),
        ("post", url("settings_stage_delete", org, pk=s.pk)),
        ("get", url("settings_qualification", org)),
        ("post", url("settings_qualification", org)),
        ("get", url("settings_criterion_edit", org, pk=c.pk)),
        ("post", url("settings_criterion_edit", org, pk=c.pk)),
        ("get", url("settings_lost_reasons", org)),
        ("post", url("settings_lost_reasons", org)),
        ("get", url("settings_lost_reason_edit", org, pk=r.pk)),
        ("post", url("settings_lost_reason_edit", org, pk=r.pk)),
        ("get", url("settings_channels", org)),
        ("post", url("settings_channels", org)),
        ("get", url("settings_channel_edit", org, pk=ch.pk)),
        ("post", url("settings_channel_edit", org, pk=ch.pk)),
    ]


def _snapshot(org: Organization) -> list[Any]:
    return [
        list(Stage.objects.for_org(org).values_list("key", "name", "position")),
        list(QualificationCriterion.objects.for_org(org).values_list("text", "active")),
        list(LostReason.objects.for_org(org).values_list("name", "active")),
        list(Channel.objects.for_org(org).values_list("name", "active")),
    ]


POST_DATA = {"name": "Hijacked", "text": "Hijacked", "group": Group.LEAD, "kind": "open"}


def test_a_member_who_is_not_an_owner_is_refused_everywhere(
    client: Any, org_a: Any, sales_a: Membership
) -> None:
    client.force_login(sales_a.user)
    before = _snapshot(org_a)

    for method, page in _pages(org_a):
        response = getattr(client, method)(page, POST_DATA)
        assert response.status_code == 403, (method, page)

    assert _snapshot(org_a) == before


def test_another_organizations_objects_are_404_through_our_urls(
    client_a: Any, org_a: Any, org_b: Any
) -> None:
    before = _snapshot(org_b)
    pages_b = [(m, u) for m, u in _pages(org_b) if "/stages/add/" not in u]
    own = [u for _, u in _pages(org_a)]
    checked = 0

    for method, page_b in pages_b:
        # the same page for B's object, but through A's slug
        page = page_b.replace("/o/bravo/", "/o/acme/")
        if page in own:
            continue  # a list page: it is A's own
        response = getattr(client_a, method)(page, POST_DATA)
        assert response.status_code == 404, (method, page)
        checked += 1

    assert checked == 10
    assert _snapshot(org_b) == before


def test_another_organizations_slug_is_404(client_a: Any, org_b: Any) -> None:
    before = _snapshot(org_b)

    for method, page in _pages(org_b):
        response = getattr(client_a, method)(page, POST_DATA)
        assert response.status_code == 404, (method, page)

    assert _snapshot(org_b) == before


def test_settings_need_a_login(client: Any, org_a: Any) -> None:
    response = client.get(url("settings_ladder", org_a))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

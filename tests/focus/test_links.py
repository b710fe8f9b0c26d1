"""The focus names leads by count: each such count links to the lead list filtered to
exactly them, and its evidence reads in words and rounded units."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.demo.generator import demo_create, demo_email
from keepscore.focus.selectors import diagnose
from keepscore.focus.views import _format

pytestmark = pytest.mark.django_db


def _names(client, url: str) -> int:
    html = client.get(url).content.decode()
    return int(re.search(r'<span class="muted">(\d+) leads? found', html).group(1))


def test_the_stalled_leads_are_a_click_away(client):
    demo_create(slug="demo", months=14, today=timezone.localdate())
    organization = Organization.objects.get(slug="demo")
    stall = next(i for i in diagnose(organization).indicators if i.key == "late_stage_stall")
    stalled = stall.evidence["stalled"]
    assert stalled > 0 and stall.status in ("alert", "watch")
    client.force_login(organization.memberships.get(user__email=demo_email("demo")).user)
    page = client.get("/o/demo/focus/").content.decode()
    link = re.search(r'<a href="([^"]+)">See the (\d+) stalled leads?</a>', page)
    assert link and int(link.group(2)) == stalled
    assert _names(client, unescape(link.group(1))) == stalled
    # the indicator's count links to the same leads
    section = page.split('data-indicator="late_stage_stall"')[1].split("</section>")[0]
    fact = re.search(r'<dt>Stalled leads</dt><dd><a href="([^"]+)">(\d+)</a>', section)
    assert fact and int(fact.group(2)) == stalled
    assert _names(client, unescape(fact.group(1))) == stalled
    # a channel's leads
    channel = re.search(r'<th scope="row"><a href="([^"]+)">Referral</a>', page)
    assert channel and "channel=" in channel.group(1)
    # in words: whole days, not 646.28
    oldest = re.search(r"<dt>Oldest has waited</dt><dd>([^<]+)</dd>", section)
    assert oldest and re.fullmatch(r"[\d,]+ days", oldest.group(1))


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("oldest_days", 645.6, "646 days"),
        ("stall_days", 1, "1 day"),
        ("runway_months", 4.0912, "4.1 months"),
        ("margin", 293426.75, "€293,427"),  # the default currency: EUR, en_IE
        ("monthly_mean", 64.92, "64.9"),
        (
            "trend",
            {"direction": "rising", "test": "poisson-score", "p_value": 0.00001},
            "rising (p < 0.001)",
        ),
        (
            "week",
            {"since": "2026-11-30", "conversations": 22, "converted": 3},
            "22 conversations since Mon 30 Nov, 3 converted",
        ),
        (
            "top_recent_tags",
            [{"tag": "price", "count": 52}, {"tag": "timing", "count": 16}],
            "price (52), timing (16)",
        ),
        ("loss_share", 0.05, "5.0%"),
    ],
)
def test_evidence_in_words(key, value, words):
    assert _format(key, value) == words

"""Data belongs to its organization: every URL, table-driven over the whole URL conf.

Every pattern under ``o/<slug:org>/`` is requested by organization A's owner (1) with
organization B's slug and (2) with A's slug but B's objects in the path. Both must be 404,
for GET and POST, and B's data must be unchanged. A pattern with a path parameter this test
does not know fails it: a new view cannot skip the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from keepscore.accounts.models import Membership
from keepscore.activities.models import Activity, Objection
from keepscore.leads.models import (
    Channel,
    DealOutcome,
    Lead,
    LostReason,
    QualificationAnswer,
    QualificationCriterion,
    Stage,
    StageChange,
)
from tests.conftest import make_org

pytestmark = pytest.mark.django_db

# URL name -> which of organization B's objects its <int:pk> names
PK_OBJECT: dict[str, str] = {}
DEFAULT_PK_OBJECT = "lead"
PK_OBJECT_BY_PREFIX = {
    "settings_stage": "stage",
    "settings_criterion": "criterion",
    "settings_lost_reason": "lost_reason",
    "settings_channel": "channel",
    "member_": "member",
    "lead_": "lead",
    "activity_": "lead",
    "objection_": "lead",
}
OTHER_PARAMS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "criterion_pk": lambda b: b["criterion"].pk,
    "direction": lambda b: "up",
}
B_TABLES = [
    Lead,
    StageChange,
    DealOutcome,
    Stage,
    Channel,
    LostReason,
    QualificationCriterion,
    QualificationAnswer,
    Activity,
    Objection,
    Membership,
]


def org_patterns() -> Iterator[tuple[str, str, list[str]]]:
    """(route, name, parameter names) of every pattern mounted under o/<slug:org>/."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            else:
                yield route, p

    for route, p in walk(get_resolver().url_patterns, ""):
        if route.startswith("o/<slug:org>/"):
            params = [name for name in p.pattern.regex.groupindex if name != "org"]
            yield route, p.name or "", params


ORG_PATTERNS = sorted(org_patterns())


def test_every_organization_page_is_covered():
    assert len(ORG_PATTERNS) >= 20, ORG_PATTERNS


def pk_object_for(name: str) -> str:
    if name in PK_OBJECT:
        return PK_OBJECT[name]
    for prefix, kind in PK_OBJECT_BY_PREFIX.items():
        if name.startswith(prefix):
            return kind
    return DEFAULT_PK_OBJECT


def fill(route: str, slug: str, kwargs: dict[str, Any]) -> str:
    url = "/" + route.replace("<slug:org>", slug)
    for key, value in kwargs.items():
        for conv in ("int", "str", "slug"):
            url = url.replace(f"<{conv}:{key}>", str(value))
    assert "<" not in url, f"unfilled parameter in {url}"
    return url


@pytest.fixture
def two_orgs(client):
    from keepscore.activities.services import activity_log, objection_add
    from keepscore.leads.services import lead_create, qualification_set
    from tests.conftest import channel

    org_a, owner_a = make_org("alpha", "owner@alpha.test")
    org_b, owner_b = make_org("beta", "owner@beta.test")
    lead = lead_create(organization=org_b, name="B lead", channel=channel(org_b), by=owner_b)
    criterion = QualificationCriterion.objects.for_org(org_b).first()
    qualification_set(lead=lead, criterion=criterion, met=True, by=owner_b)
    activity_log(lead=lead, kind="connect", by=owner_b, with_buyer=True)
    objection_add(lead=lead, tag="price", by=owner_b)
    b = {
        "org": org_b,
        "lead": lead,
        "stage": Stage.objects.for_org(org_b).get(key="prospect"),
        "criterion": criterion,
        "lost_reason": LostReason.objects.for_org(org_b).first(),
        "channel": Channel.objects.for_org(org_b).first(),
        "member": owner_b,
    }
    client.force_login(owner_a.user)
    return org_a, b, client


def snapshot() -> list[Any]:
    return [sorted(m.objects.values_list()) for m in B_TABLES]


def urls_for(route: str, name: str, params: list[str], slug: str, b: dict[str, Any]) -> str:
    kwargs: dict[str, Any] = {}
    for param in params:
        if param == "pk":
            kwargs[param] = b[pk_object_for(name)].pk
        elif param in OTHER_PARAMS:
            kwargs[param] = OTHER_PARAMS[param](b)
        else:
            pytest.fail(f"{name} ({route}) has parameter {param!r}: teach test_isolation.py")
    return fill(route, slug, kwargs)


@pytest.mark.parametrize(("route", "name", "params"), ORG_PATTERNS)
def test_another_organizations_slug_is_404(two_orgs, route, name, params):
    _org_a, b, client = two_orgs
    before = snapshot()
    url = urls_for(route, name, params, b["org"].slug, b)
    assert client.get(url).status_code == 404, url
    assert client.post(url, {"name": "hijack", "to_stage": b["stage"].pk}).status_code == 404, url
    assert snapshot() == before


@pytest.mark.parametrize(
    ("route", "name", "params"), [p for p in ORG_PATTERNS if p[2]], ids=lambda v: str(v)
)
def test_another_organizations_objects_are_404(two_orgs, route, name, params):
    org_a, b, client = two_orgs
    before = snapshot()
    url = urls_for(route, name, params, org_a.slug, b)
    get = client.get(url)
    assert get.status_code in (404, 405), (url, get.status_code)
    post = client.post(url, {"name": "hijack", "to_stage": b["stage"].pk, "met": "on"})
    assert post.status_code == 404, (url, post.status_code)
    assert snapshot() == before


@pytest.mark.parametrize(("route", "name", "params"), ORG_PATTERNS)
def test_anonymous_is_sent_to_log_in(client, two_orgs, route, name, params):
    org_a, b, _ = two_orgs
    client.logout()
    url = urls_for(route, name, params, org_a.slug, b)
    response = client.get(url)
    if response.status_code == 405:  # POST-only: refused before anything is read
        response = client.post(url)
    assert response.status_code == 302, (url, response.status_code)
    assert "/login/" in response["Location"], url

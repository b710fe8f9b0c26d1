"""Every page under ``o/<slug:org>/``, read from the URL conf, and how to fill its path.

Shared by the table-driven tests over the whole URL conf (``test_isolation.py``,
``test_bad_input.py``): a new view is covered by them without being listed anywhere. A path
parameter they do not know fails them, so that a new view cannot skip the checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# URL name -> which object its <int:pk> names (the keys of the ``objects`` given to urls_for)
PK_OBJECT: dict[str, str] = {"followup_add": "lead"}
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
    "stage_change_": "lead",
    "followup_": "followup",
}
# other path parameters: their value, from the same objects
OTHER_PARAMS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "criterion_pk": lambda objects: objects["criterion"].pk,
    "change_pk": lambda objects: latest_change_pk(objects),
    "direction": lambda objects: "up",
    "form_pk": lambda objects: web_form_pk(objects),
    "job_pk": lambda objects: import_job_pk(objects),
    "metric_pk": lambda objects: manual_metric_pk(objects),
    "product_pk": lambda objects: product_pk(objects),
    "year": lambda objects: 2026,
    "month": lambda objects: "03",
    "ext": lambda objects: "csv",
}
#: URL name -> how its <int:pk> is found or made (objects not in the tests' own worlds)
PK_MADE: dict[str, Callable[[Mapping[str, Any]], int]] = {
    "token_revoke": lambda objects: token_pk(objects),
    "invitation_resend": lambda objects: invitation_pk(objects),
    "invitation_revoke": lambda objects: invitation_pk(objects),
}
#: path parameters that are values (a month, a direction), not objects of an organization:
#: a pattern whose only parameters are these has nothing of another organization to put in
#: its path (it is still checked with the other organization's slug)
VALUE_PARAMS = {"year", "month", "direction", "ext"}


def names_objects(params: list[str]) -> bool:
    """Whether a pattern's path names an organization's objects (not only values)."""
    return bool(set(params) - VALUE_PARAMS)


def latest_change_pk(objects: Mapping[str, Any]) -> int:
    """The latest stage change of ``objects["lead"]``."""
    from keepscore.leads.models import StageChange

    change = StageChange.objects.filter(lead=objects["lead"]).order_by("at", "id").last()
    assert change is not None
    return change.pk


def manual_metric_pk(objects: Mapping[str, Any]) -> int:
    """A manual metric of the organization of ``objects["lead"]`` (made on first use)."""
    from keepscore.scorecard.models import ManualMetric
    from keepscore.scorecard.services import manual_metric_save

    organization = objects["lead"].organization
    metric = ManualMetric.objects.for_org(organization).first() or manual_metric_save(
        organization=organization, name="Website visitors", group="SUSPECT"
    )
    return metric.pk


def product_pk(objects: Mapping[str, Any]) -> int:
    """A product of the organization of ``objects["lead"]`` (made on first use)."""
    from decimal import Decimal

    from keepscore.economics.models import Product
    from keepscore.economics.services import product_save

    organization = objects["lead"].organization
    product = Product.objects.for_org(organization).first() or product_save(
        organization=organization, name="Consulting day", price=Decimal("800.00")
    )
    return product.pk


def import_job_pk(objects: Mapping[str, Any]) -> int:
    """An uploaded web import (a small CSV) of the organization of ``objects["lead"]``."""
    from keepscore.imports.mapping import upload_store
    from keepscore.imports.models import ImportJob

    organization = objects["lead"].organization
    job = ImportJob.objects.for_org(organization).exclude(upload="").first()
    if job is None:
        body = b"name,email,source,stage\nAda,ada@example.com,referral,lead\n"
        job = upload_store(
            organization=organization,
            name="leads.csv",
            chunks=[body],
            kind="leads",
            preset="plain",
            by=None,
        )
    return job.pk


def token_pk(objects: Mapping[str, Any]) -> int:
    """An API token of an owner of the organization of ``objects["lead"]`` (made on first
    use)."""
    from keepscore.accounts.models import ApiToken
    from keepscore.accounts.tokens import token_create

    organization = objects["lead"].organization
    token = ApiToken.objects.for_org(organization).filter(membership__is_owner=True).first()
    if token is None:
        owner = organization.memberships.filter(is_owner=True).first()
        token = token_create(membership=owner, name="an owner's token")[0]
    return token.pk


def invitation_pk(objects: Mapping[str, Any]) -> int:
    """An open invitation of the organization of ``objects["lead"]`` (made on first use)."""
    from keepscore.accounts.invitations import invitation_send, open_invitations

    organization = objects["lead"].organization
    found = open_invitations(organization)
    if found:
        return found[0].pk
    sent = invitation_send(organization=organization, email="invited@example.test", is_sales=True)
    return sent.invitation.pk


def web_form_pk(objects: Mapping[str, Any]) -> int:
    """A web form of the organization of ``objects["lead"]`` (made on first use)."""
    from keepscore.webforms.models import WebForm
    from keepscore.webforms.services import webform_save

    organization = objects["lead"].organization
    form = WebForm.objects.for_org(organization).first() or webform_save(
        organization=organization, name="Contact", fields=["name", "email"]
    )
    return form.pk


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


def pk_object_for(name: str) -> str:
    if name in PK_OBJECT:
        return PK_OBJECT[name]
    for prefix, kind in PK_OBJECT_BY_PREFIX.items():
        if name.startswith(prefix):
            return kind
    return DEFAULT_PK_OBJECT


def fill(route: str, slug: str, kwargs: Mapping[str, Any]) -> str:
    url = "/" + route.replace("<slug:org>", slug)
    for key, value in kwargs.items():
        for conv in ("int", "str", "slug"):
            url = url.replace(f"<{conv}:{key}>", str(value))
    assert "<" not in url, f"unfilled parameter in {url}"
    return url


def path_kwargs(name: str, params: list[str], objects: Mapping[str, Any]) -> dict[str, Any]:
    """The path parameters of URL ``name``, filled from ``objects`` (one per kind)."""
    kwargs: dict[str, Any] = {}
    for param in params:
        if param == "pk" and name in PK_MADE:
            kwargs[param] = PK_MADE[name](objects)
        elif param == "pk":
            kwargs[param] = objects[pk_object_for(name)].pk
        elif param in OTHER_PARAMS:
            kwargs[param] = OTHER_PARAMS[param](objects)
        else:
            pytest.fail(f"{name} has path parameter {param!r}: teach tests/common/urls.py")
    return kwargs


def urls_for(
    route: str, name: str, params: list[str], slug: str, objects: Mapping[str, Any]
) -> str:
    """The URL of the pattern for organization ``slug`` with ``objects`` in its path."""
    return fill(route, slug, path_kwargs(name, params, objects))

"""Every web page and API operation, with every role, against the one permission map
(``keepscore.accounts.permissions``).

The URL conf and the OpenAPI document are walked (a new page or operation is covered
without being listed here, and fails until the map names it). Each is requested by an
owner, a marketing member, a sales member, a member of another organization, someone
signed out and (the API) a revoked token, with GET and POST (the API: its own methods).
Expected: what the map allows is not refused; what it does not is 403 with the refusal's
words; another organization's member gets 404; signed out, the login page (web) or 401
(API). Each request runs in a savepoint rolled back after it, so no request changes what
the next one sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from keepscore.accounts import permissions
from keepscore.accounts.models import Membership
from keepscore.accounts.services import member_add
from keepscore.accounts.tokens import token_create, token_revoke
from keepscore.api.api import api
from keepscore.leads.models import LostReason, QualificationCriterion, Stage
from tests.api.test_isolation import BODIES, QUERIES
from tests.common.urls import ORG_PATTERNS, urls_for
from tests.conftest import channel, make_org, make_user

API_BASE = "/api/v1"
OPERATIONS = sorted(
    (path.removeprefix(API_BASE), method.upper())
    for path, item in api.get_openapi_schema()["paths"].items()
    for method in item
)
ROLES = ("owner", "marketing", "sales")
#: pages whose object is a member's own: the token in the path is an owner's, so another
#: member is told it does not exist (owners manage every token)
OWN_ONLY = {"token_revoke"}


def other_patterns() -> list[tuple[str, str]]:
    """(route, view name) of every page outside ``o/<slug:org>/`` and not an API operation."""
    operations = {f"api/v1{p.split('{')[0]}".rstrip("/") for p, _m in OPERATIONS} | {"api/v1"}
    found = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern) and not (prefix + str(p.pattern)).startswith("o/"):
                route = prefix + str(p.pattern)
                name = f"{namespace}:{p.name}" if namespace else str(p.name)
                if namespace == "api" and not name.startswith("api:openapi"):
                    assert route.split("<")[0].rstrip("/") in operations, route
                    continue
                found.append((route, name))

    walk(get_resolver().url_patterns, "", "")
    return sorted(found)


@dataclass
class Seen:
    differences: list[str]

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.differences.append(what)


def _rolled_back(send: Any) -> Any:
    with transaction.atomic():
        response = send()
        transaction.set_rollback(True)
    return response


def _refused(response: Any) -> bool:
    return response.status_code == 403


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/login/")


class PermissionMapTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        from decimal import Decimal

        from keepscore.activities.services import activity_log
        from keepscore.economics.services import product_save
        from keepscore.followups.services import followup_add
        from keepscore.imports.models import ImportJob
        from keepscore.leads.services import lead_create, lead_move
        from keepscore.scorecard.services import manual_metric_save
        from keepscore.webforms.services import webform_save
        from tests.conftest import stage

        org, owner = make_org("alpha", "owner@alpha.test")
        members = {
            "owner": owner,
            "marketing": member_add(
                organization=org, user=make_user("m@alpha.test"), is_marketing=True
            ),
            "sales": member_add(organization=org, user=make_user("s@alpha.test"), is_sales=True),
        }
        _other, stranger = make_org("beta", "owner@beta.test")
        lead = lead_create(organization=org, name="Ada", channel=channel(org), by=owner)
        lead_move(lead=lead, to_stage=stage(org, "prospect"), by=owner)
        activity_log(lead=lead, kind="connect", by=owner, with_buyer=True)
        followup = followup_add(lead=lead, by=owner, kind="call", due_on=timezone.localdate())
        metric = manual_metric_save(organization=org, name="Website visitors", group="SUSPECT")
        product = product_save(organization=org, name="Day", price=Decimal("800.00"))
        webform_save(organization=org, name="Contact", fields=["name", "email"])
        job = ImportJob.objects.create(
            organization=org, kind="leads", file_name="a.csv", preset="plain",
            status=ImportJob.Status.IMPORTED, started_at=timezone.now(),
        )  # fmt: skip
        from keepscore.economics.services import spend_set

        spend = spend_set(
            organization=org, month="2026-01", channel="ads", amount="5", campaign="A campaign"
        )
        cls.members = members
        cls.stranger = stranger
        cls.objects = {
            "lead": lead,
            "followup": followup,
            "stage": Stage.objects.for_org(org).get(key="prospect"),
            "criterion": QualificationCriterion.objects.for_org(org).first(),
            "lost_reason": LostReason.objects.for_org(org).first(),
            "channel": channel(org),
            "member": members["sales"],
        }
        cls.org = org
        cls.api_params = {
            "lead_id": lead.pk,
            "change_id": lead.stage_changes.order_by("at", "id").last().pk,
            "task_id": followup.pk,
            "product_id": product.pk,
            "spend_id": spend.pk,
            "job_id": job.pk,
            "key": metric.key,
            "month": "2026-01",
            "year": 2026,
        }
        cls.tokens = {
            role: token_create(membership=m, name=role)[1]
            for role, m in {**members, "stranger": stranger}.items()
        }
        revoked, cls.tokens["revoked"] = token_create(membership=owner, name="old")
        token_revoke(token=revoked)

    def client_of(self, membership: Membership | None) -> Client:
        client = Client()
        if membership is not None:
            client.force_login(membership.user)
        return client

    # --- the map covers everything, and nothing else ---------------------------------------

    def test_the_map_names_every_page_and_nothing_else(self) -> None:
        names = {name for _route, name, _params in ORG_PATTERNS}
        names |= {name for _route, name in other_patterns()}
        self.assertEqual(sorted(names - set(permissions.WEB)), [], "pages without a rule")
        self.assertEqual(sorted(set(permissions.WEB) - names), [], "rules of no page")

    def test_the_map_names_every_operation_and_nothing_else(self) -> None:
        keys = {f"{method} {path}" for path, method in OPERATIONS}
        self.assertEqual(sorted(keys - set(permissions.API)), [], "operations without a rule")
        self.assertEqual(sorted(set(permissions.API) - keys), [], "rules of no operation")

    # --- the web --------------------------------------------------------------------------

    def test_every_organization_page_with_every_role(self) -> None:
        seen = Seen([])
        clients = {role: self.client_of(m) for role, m in self.members.items()}
        stranger, anonymous = self.client_of(self.stranger), self.client_of(None)
        for route, name, params in ORG_PATTERNS:
            url = urls_for(route, name, params, self.org.slug, self.objects)
            for method in ("GET", "POST"):
                send = method.lower()
                for role, client in clients.items():
                    need = permissions.web_need(name, method)
                    allowed = permissions.allows(self.members[role], need)
                    response = _rolled_back(lambda c=client, s=send, u=url: getattr(c, s)(u))
                    got = response.status_code
                    if allowed and name in OWN_ONLY and role != "owner" and method == "POST":
                        seen.expect(got == 404, f"{method} {name} as {role}: {got}, not 404")
                    elif allowed:
                        seen.expect(
                            got not in (403, 404) and not _to_login(response),
                            f"{method} {name} as {role}: {got}, the map allows it",
                        )
                    else:
                        seen.expect(
                            got == 403 and b"Only owners" in response.content,
                            f"{method} {name} as {role}: {got}, the map says {need}",
                        )
                response = _rolled_back(lambda s=send, u=url: getattr(stranger, s)(u))
                seen.expect(
                    response.status_code == 404,
                    f"{method} {name} by another organization's member: {response.status_code}",
                )
                response = _rolled_back(lambda s=send, u=url: getattr(anonymous, s)(u))
                seen.expect(
                    _to_login(response), f"{method} {name} signed out: {response.status_code}"
                )
        self.assertEqual(seen.differences, [])

    def test_every_page_outside_an_organization(self) -> None:
        from keepscore.accounts.invitations import invitation_send, token_of
        from keepscore.webforms.models import WebForm

        form = WebForm.objects.for_org(self.org).get()
        invited = invitation_send(organization=self.org, email="new@alpha.test", is_sales=True)
        seen = Seen([])
        anonymous, sales = self.client_of(None), self.client_of(self.members["sales"])
        for route, name in other_patterns():
            url = "/" + route.replace("<str:key>", form.key)
            url = url.replace("<str:token>", token_of(invited.invitation))
            if name == "logout":  # POST only; it ends at the login page, signed in or not
                response = sales.post(url)
                seen.expect(_to_login(response), f"POST logout: {response.status_code}")
                seen.expect("_auth_user_id" not in sales.session, "POST logout kept the session")
                sales = self.client_of(self.members["sales"])
                continue
            need = permissions.web_need(name, "GET")
            for who, client in (("signed out", anonymous), ("a sales member", sales)):
                response = _rolled_back(lambda c=client, u=url: c.get(u))
                got = response.status_code
                if need is permissions.PUBLIC or who != "signed out":
                    seen.expect(
                        got in (200, 302) and not _to_login(response),
                        f"GET {name} {who}: {got}, the map says {need}",
                    )
                else:
                    seen.expect(_to_login(response), f"GET {name} {who}: {got}, needs a login")
        self.assertEqual(seen.differences, [])

    # --- the API --------------------------------------------------------------------------

    def test_every_operation_with_every_token(self) -> None:
        seen = Seen([])
        for path, method in OPERATIONS:
            names = re.findall(r"{(\w+)}", path)
            url = API_BASE + path.format(**{p: self.api_params[p] for p in names})
            need = permissions.api_need(method, path)
            for who in (*ROLES, "stranger", "revoked", "anonymous"):
                response = _rolled_back(
                    lambda w=who, m=method, p=path, u=url: self._call(m, p, u, w)
                )
                got = response.status_code
                if who in ("revoked", "anonymous"):
                    seen.expect(got == 401, f"{method} {path} {who}: {got}, not 401")
                elif who == "stranger":
                    # their own organization's owner: refused nothing, but A's ids are unknown
                    unknown = set(names) - {"month", "year"}
                    ok = got == 404 if unknown else got not in (401, 403, 404)
                    seen.expect(ok, f"{method} {path} by another organization's owner: {got}")
                elif permissions.allows(self.members[who], need):
                    seen.expect(
                        got not in (401, 403, 404), f"{method} {path} as {who}: {got}, allowed"
                    )
                else:
                    detail = response.json().get("detail", "") if got == 403 else ""
                    seen.expect(
                        detail.startswith("Only owners"),
                        f"{method} {path} as {who}: {got}, the map says {need}",
                    )
        self.assertEqual(seen.differences, [])

    def _call(self, method: str, path: str, url: str, who: str) -> Any:
        client = Client()
        headers = {} if who == "anonymous" else {"Authorization": f"Bearer {self.tokens[who]}"}
        if method in ("GET", "DELETE"):
            query = QUERIES.get(path, {}) if method == "GET" else None
            return getattr(client, method.lower())(url, query, headers=headers)
        return getattr(client, method.lower())(
            url, BODIES.get(path, {}), content_type="application/json", headers=headers
        )


def test_a_refusal_names_who_can(db: Any) -> None:
    org, _owner = make_org("gamma", "owner@gamma.test")
    sales = member_add(organization=org, user=make_user("s@gamma.test"), is_sales=True)
    client = Client()
    client.force_login(sales.user)
    response = client.get(f"/o/{org.slug}/settings/")
    assert response.status_code == 403
    assert "Only owners can do this: ask an owner of Gamma." in response.content.decode()
    # the API: a sales member's token may not add a channel (the web keeps channels for
    # owners too)
    raw = token_create(membership=sales, name="phone")[1]
    added = client.post(
        "/api/v1/channels",
        {"name": "Flyers"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert added.status_code == 403
    assert added.json()["detail"] == "Only owners can do this: ask an owner of Gamma."
    assert permissions.web_need("spend", "HEAD") is permissions.MEMBER
    assert permissions.web_need("spend", "POST") is permissions.MARKETING

"""Every response carries a strict Content-Security-Policy and a Permissions-Policy.

Table-driven over the whole URL conf: every pattern under ``o/<slug:org>/`` (filled with the
organization's own objects by ``tests/common/urls.py``), the public web form, the log-in
pages and every API operation. Only the public form and its thank-you page may be framed by
other sites; only the API's Swagger UI may show ``data:`` images (its icons).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from keepscore.accounts.tokens import token_create
from keepscore.activities.services import activity_log, objection_add
from keepscore.common.headers import url_origin
from keepscore.followups.services import followup_add
from keepscore.leads.models import LostReason, QualificationCriterion, Stage
from keepscore.leads.services import lead_create, qualification_set
from keepscore.webforms.services import webform_save
from tests.common.urls import ORG_PATTERNS, latest_change_pk, urls_for
from tests.conftest import channel, make_org

pytestmark = pytest.mark.django_db

FRAMED = {"webform_public", "webform_thanks"}  # websites embed the public form
SWAGGER = "openapi-view"
OFF = ("camera", "microphone", "geolocation", "payment", "usb", "display-capture", "midi")


def policy(response: Any) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy"
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            assert words[0] not in parsed, f"{words[0]} twice"
            parsed[words[0]] = words[1:]
    return parsed


def header_faults(name: str, response: Any, *, frame_options: bool = True) -> list[str]:
    """What is wrong with one response's security headers (empty when nothing)."""
    faults: list[str] = []
    csp = policy(response)
    expected = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["*"] if name in FRAMED else ["'none'"],
        "style-src": ["'self'"],
        # the Swagger UI's icons are data: SVG images (keepscore.api.docs)
        "img-src": ["'self'", "data:"] if name == SWAGGER else ["'self'"],
    }
    for directive, sources in expected.items():
        if csp.get(directive) != sources:
            faults.append(f"{directive} {csp.get(directive)}, expected {sources}")
    if not csp.get("form-action") or csp["form-action"][0] != "'self'":
        faults.append(f"form-action {csp.get('form-action')}")
    unsafe = [s for sources in csp.values() for s in sources if s.startswith("'unsafe-")]
    if unsafe:
        faults.append(f"unsafe sources {unsafe}")
    permissions = response.get("Permissions-Policy", "")
    for feature in OFF:
        if f"{feature}=()" not in permissions:
            faults.append(f"Permissions-Policy does not turn off {feature}: {permissions!r}")
    if frame_options:
        got = response.get("X-Frame-Options")
        if got != (None if name in FRAMED else "DENY"):
            faults.append(f"X-Frame-Options {got}")
    return faults


@pytest.fixture
def site(client: Client) -> dict[str, Any]:
    """One organization with one of everything its pages name in their paths."""
    org, owner = make_org("alpha", "owner@alpha.test")
    lead = lead_create(organization=org, name="Ada", channel=channel(org), by=owner)
    criterion = QualificationCriterion.objects.for_org(org).first()
    qualification_set(lead=lead, criterion=criterion, met=True, by=owner)
    activity_log(lead=lead, kind="connect", by=owner, with_buyer=True)
    objection_add(lead=lead, tag="price", by=owner)
    objects = {
        "org": org,
        "owner": owner,
        "lead": lead,
        "followup": followup_add(lead=lead, by=owner, kind="call", due_on=timezone.localdate()),
        "stage": Stage.objects.for_org(org).get(key="prospect"),
        "criterion": criterion,
        "lost_reason": LostReason.objects.for_org(org).first(),
        "channel": channel(org),
        "member": owner,
        "webform": webform_save(organization=org, name="Contact", fields=["name", "email"]),
    }
    client.force_login(owner.user)
    return objects


def other_patterns() -> Iterator[tuple[str, str]]:
    """(route, name) of every pattern not under o/<slug:org>/ (log-in, public form, API)."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    for route, p in walk(get_resolver().url_patterns, ""):
        if not route.startswith("o/<slug:org>/"):
            yield route, p.name or ""


def other_url(route: str, objects: dict[str, Any]) -> str:
    """Fill the path of a pattern outside the organization's pages with real objects."""
    values = {
        "key": objects["webform"].key,  # the public form's; an API metric key is refused 404
        "lead_id": objects["lead"].pk,
        "change_id": latest_change_pk(objects),
        "month": "2026-03",
        "year": "2026",
        "task_id": objects["followup"].pk,
    }
    url = "/" + route
    for param in re.findall(r"<(?:\w+:)?(\w+)>", route):
        url = re.sub(rf"<(?:\w+:)?{param}>", str(values.get(param, 1)), url)
    return url


def test_every_page_carries_the_policies(site: dict[str, Any], client: Client) -> None:
    checked: dict[str, int] = {}
    faults: dict[str, list[str]] = {}

    def check(name: str, url: str, response: Any) -> None:
        assert response.status_code < 500, (url, response.status_code)
        checked[url] = response.status_code
        found = header_faults(name, response)
        if found:
            faults[f"{name} {url} ({response.status_code})"] = found

    for route, name, params in ORG_PATTERNS:
        url = urls_for(route, name, params, site["org"].slug, site)
        client.force_login(site["owner"].user)
        response = client.get(url)
        if response.status_code == 405:  # a POST-only action: its answer to an empty POST
            response = client.post(url)
        check(name, url, response)
    # after the pages above, among which an empty POST revokes token 1
    _token, raw = token_create(membership=site["owner"], name="headers")
    bearer = {"Authorization": f"Bearer {raw}"}
    others = list(other_patterns())
    for route, name in others:
        url = other_url(route, site)
        client.force_login(site["owner"].user)
        check(name, url, client.get(url, headers=bearer if route.startswith("api/") else {}))

    assert not faults, faults
    assert len(checked) == len(ORG_PATTERNS) + len({other_url(r, site) for r, _ in others})
    # most are real pages, not refusals: the walk reads what people see
    assert sum(1 for status in checked.values() if status == 200) >= 80, checked


def test_static_files_errors_and_the_login_page_carry_them_too(
    client: Client, site: dict[str, Any]
) -> None:
    # WhiteNoise answers static files before Django's X-Frame-Options middleware:
    # frame-ancestors 'none' is what keeps them out of frames
    for url in ("/static/keepscore/keepscore.css", "/static/keepscore/embed.js"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not header_faults("", response, frame_options=False), url
    for url in ("/no-such/", "/f/no-such-key/", f"/o/{site['org'].slug}/leads/999999/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert not header_faults("", response), (url, header_faults("", response))
    client.logout()
    login = client.get("/login/")
    assert login.status_code == 200
    assert not header_faults("login", login)


def test_the_public_form_may_lead_to_the_thank_you_page_of_its_form(
    client: Client, site: dict[str, Any]
) -> None:
    form = webform_save(
        organization=site["org"],
        name="Quote",
        fields=["name"],
        thank_you_url="https://Www.Example.com:8443/merci?utm=1#top",
    )
    response = client.get(f"/f/{form.key}/")
    assert policy(response)["form-action"] == ["'self'", "https://www.example.com:8443"]
    assert not header_faults("webform_public", response)
    # a form without one: 'self' only
    plain = client.get(f"/f/{site['webform'].key}/")
    assert policy(plain)["form-action"] == ["'self'"]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://example.com/thanks", "https://example.com"),
        ("HTTP://Shop.Example.com:8080/a?b#c", "http://shop.example.com:8080"),
        ("https://[::1]:8000/x", "https://[::1]:8000"),
        ("ftp://example.com/thanks", None),
        ("javascript:alert(1)", None),
        ("https://user:pass@example.com/", None),
        ("https://exa mple.com/;script-src *", None),
        ("https://example.com;script-src/", None),
        ("", None),
    ],
)
def test_url_origin_gives_a_plain_csp_source(url: str, origin: str | None) -> None:
    assert url_origin(url) == origin


TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "keepscore" / "templates"


class InlineCode(HTMLParser):
    """Inline script and style in a template: what the policy would refuse in a browser."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value or "" for name, value in attrs}
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append("inline <script>")
        for name, value in names.items():
            if name == "style" or (name.startswith("on") and name.isalpha()):
                self.found.append(f"{name}= attribute on <{tag}>")
            if value.strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL in {name}")


def test_no_template_has_inline_script_or_style() -> None:
    found = {}
    templates = sorted(TEMPLATES.rglob("*.html"))
    for path in templates:
        parser = InlineCode()
        parser.feed(path.read_text())
        name = str(path.relative_to(TEMPLATES))
        if name.startswith("mail/"):
            # mails (keepscore.mail) are read by mail programs, which keep only inline style;
            # no page serves them, so the policy never applies. No script in them, still.
            parser.found = [f for f in parser.found if not f.startswith("style= attribute")]
        if parser.found:
            found[name] = parser.found
    assert len(templates) > 50
    assert not found, found
    assert any(p.parts[-2] == "mail" for p in templates)  # the exemption names real files


def test_the_inline_code_finder_finds_it() -> None:
    parser = InlineCode()
    parser.feed(
        '<style>p{}</style><script>alert(1)</script><script src="/s.js"></script>'
        '<select onchange="go()"><a href="JavaScript:x" style="color:red">'
        "<code>&lt;iframe style=&quot;border:0&quot;&gt;</code>"
    )
    assert parser.found == [
        "<style> element",
        "inline <script>",
        "onchange= attribute on <select>",
        "javascript: URL in href",
        "style= attribute on <a>",
    ]

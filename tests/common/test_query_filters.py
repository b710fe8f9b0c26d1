"""The query string of every page: a bad filter value is shown as an error on the page (200
with the error) or refused (400), never a 500, and never silently ignored.

Table-driven over the whole URL conf: each page is read as its owner sees it, its GET forms
(filters) are found and each field is sent values of the wrong type for its kind (a date
field a number, a select a value it does not offer, ...). The few parameters pages read
without a form are listed in QUERY_ONLY. A new filter is covered as soon as a page has it.
"""

from __future__ import annotations

import dataclasses
import re
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from keepscore.accounts.services import member_add
from tests.common.test_bad_input import fill_organization
from tests.common.urls import ORG_PATTERNS, urls_for
from tests.conftest import make_org, make_user

#: parameters pages read from the query string without a form: URL name -> name -> values
QUERY_ONLY: dict[str, dict[str, list[str]]] = {
    "lead_list": {"page": ["abc", "0", "-1", "99999"]},
    "today": {"member": ["abc", "99999", "-1"]},
    "spend": {"month": ["0", "2024-13", "May"]},
    "spend_export": {"year": ["0", "abc", "99999"]},
    "scorecard_values": {"year": ["0", "abc", "99999"]},
    "scorecard_targets": {"year": ["0", "abc", "99999"]},
    "focus": {"date": ["0", "2024-02-30"]},
}
#: pages that take the query string of another page's forms: URL name -> that page's name
SAME_AS = {"export_leads": "lead_list"}  # the list's "Export CSV" carries its filters
#: what shows an error on a page
ERROR = re.compile(r'role="alert"|class="[^"]*\b(error|errorlist|msg-error)\b')


@dataclasses.dataclass
class Field:
    name: str
    kind: str  # the input's type, "select" or "textarea"
    attrs: dict[str, str]
    options: list[str] = dataclasses.field(default_factory=list)


class GetForms(HTMLParser):
    """The fields of a page's GET forms, by the path each form is sent to."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.target = ""  # the path the current GET form goes to
        self.sent: dict[str, dict[str, Field]] = {}
        self.select: Field | None = None

    def _add(self, field: Field) -> Field:
        return self.sent.setdefault(self.target, {}).setdefault(field.name, field)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urlsplit(urljoin(self.url, a.get("action") or self.url)).path
            self.target = action if a.get("method", "get").lower() == "get" else ""
        elif not self.target or not a.get("name"):
            return
        elif tag == "input" and a.get("type", "text") not in ("submit", "hidden", "button"):
            self._add(Field(a["name"], a.get("type", "text"), a))
        elif tag == "select":
            self.select = self._add(Field(a["name"], "select", a))
        elif tag == "textarea":
            self._add(Field(a["name"], "textarea", a))
        if tag == "option" and self.select is not None:
            self.select.options.append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.target = ""
        elif tag == "select":
            self.select = None


def bad_values(field: Field) -> list[str]:
    """Values of the wrong type for a field of this kind."""
    if field.kind == "date":
        return ["0", "2024-02-30", "yesterday"]
    if field.kind == "number":
        wrong = ["abc", "1.5e999"]
        if field.attrs.get("min"):
            wrong.append(str(int(float(field.attrs["min"])) - 1))
        if field.attrs.get("max"):
            wrong.append(str(int(float(field.attrs["max"])) + 1))
        return wrong
    if field.kind == "select":
        return ["not-an-option", "99999999"]
    if field.kind == "checkbox":
        return []  # a box is on or off: any value sent is "on"
    wrong = ["nul\x00byte"]
    if field.attrs.get("maxlength"):
        wrong.append("x" * (int(field.attrs["maxlength"]) + 1))
    return wrong


@pytest.fixture
def owner_client(client: Client, db: Any) -> tuple[Client, dict[str, Any]]:
    org, owner = make_org("acme", "owner@acme.test")
    other, other_owner = make_org("bravo", "owner@bravo.test")
    objects = fill_organization(org, owner, "Ada")
    fill_organization(other, other_owner, "Bob")
    objects["member"] = member_add(
        organization=org, user=make_user("sales@acme.test"), is_sales=True
    )
    client.force_login(owner.user)
    return client, objects


def test_a_bad_filter_is_an_error_on_the_page_or_a_400(owner_client: Any) -> None:
    client, objects = owner_client
    # every page as its owner sees it: the GET forms on it, by the page they are sent to
    targets: dict[str, dict[str, list[str]]] = {}
    names: dict[str, str] = {}
    for route, name, params in ORG_PATTERNS:
        url = urls_for(route, name, params, "acme", objects)
        names[url] = name
        for param, values in QUERY_ONLY.get(name, {}).items():
            targets.setdefault(url, {}).setdefault(param, []).extend(values)
        page = client.get(url)
        if page.status_code != 200 or not page["Content-Type"].startswith("text/html"):
            continue
        parser = GetForms(url)
        parser.feed(page.content.decode())
        for target, fields in parser.sent.items():
            for field in fields.values():
                sent = targets.setdefault(target, {}).setdefault(field.name, [])
                sent.extend(v for v in bad_values(field) if v not in sent)
    by_name = {name: url for url, name in names.items()}
    for name, same in SAME_AS.items():
        targets[by_name[name]] = {
            param: values
            for param, values in targets[by_name[same]].items()
            if param not in QUERY_ONLY.get(same, {})
        }
    problems: list[str] = []
    checked = 0
    for url, params in targets.items():
        baseline = client.get(url, {"format": "csv"} if names.get(url) in SAME_AS else {})
        html = baseline["Content-Type"].startswith("text/html")
        # a page that is an error without parameters (a form to fill) must still show one
        shown = len(ERROR.findall(baseline.content.decode())) if html else 0
        shown = shown if baseline.status_code == 200 else 0
        for param, values in params.items():
            for value in values:
                checked += 1
                base = {"format": "csv"} if names.get(url) in SAME_AS else {}
                response = client.get(url, {**base, param: value})
                where = f"{names.get(url, url)}?{param}={value[:20]!r}"
                if response.status_code >= 500:
                    problems.append(f"{where}: {response.status_code}")
                elif response.status_code not in (200, 400):
                    problems.append(f"{where}: {response.status_code}, not 200 or 400")
                elif not response["Content-Type"].startswith("text/html"):
                    if response.status_code != 400:
                        problems.append(f"{where}: a download with the value ignored")
                elif len(ERROR.findall(response.content.decode())) <= shown:
                    problems.append(f"{where}: {response.status_code} and no error shown")
    assert not problems, "\n".join(problems)
    assert len(targets) >= 13 and checked >= 100, (
        sorted(names.get(u, u) for u in targets),
        checked,
    )


# --- the messages, page by page -------------------------------------------------------------


def test_the_lead_list_names_a_page_it_does_not_have(owner_client: Any) -> None:
    client, _objects = owner_client
    for asked, said in [
        ("abc", "“abc” is not a page number: showing page 1."),
        ("0", "There is no page 0: showing page 1."),
        ("99999", "There is no page 99999: showing page 1, the last."),
    ]:
        page = client.get("/o/acme/leads/", {"page": asked})
        assert page.status_code == 200
        assert said in page.content.decode()
        assert "Ada" in page.content.decode()  # the page it says it shows
    assert "page number" not in client.get("/o/acme/leads/", {"page": "1"}).content.decode()


def test_a_year_that_is_not_one(owner_client: Any) -> None:
    client, _objects = owner_client
    export = client.get("/o/acme/spend/export.csv", {"year": "abc"})
    assert export.status_code == 400 and export["Content-Type"].startswith("text/plain")
    assert export.content.decode() == "'abc' is not a year."
    assert client.get("/o/acme/spend/export.csv", {"year": "2026"}).status_code == 200
    page = client.get("/o/acme/scorecard/values/", {"year": "abc"})
    this_year = timezone.localdate().year
    assert f"'abc' is not a year. Showing {this_year}." in unescape(page.content.decode())
    # a save to a year that is not one is refused, not put in this year
    assert client.post("/o/acme/scorecard/values/?year=abc", {"metric": "x"}).status_code == 400


def test_the_lead_export_refuses_a_filter_that_is_not_valid(owner_client: Any) -> None:
    client, _objects = owner_client
    sent = client.get("/o/acme/export/leads/", {"format": "csv", "created_from": "0"})
    assert sent.status_code == 400
    assert "First touch from: Enter a valid date." in sent.content.decode()
    assert client.get("/o/acme/export/leads/", {"format": "csv"}).status_code == 200

"""The scorecard PDF is rendered once per month and kept until the data it shows changes
(``keepscore.reports.month``, keyed by ``keepscore.scorecard.kept``'s data revision): the
next download is the kept file; after a stage change, a target, a spend, … of that
organization it is rendered again; another organization never gets it."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader
from typer.testing import CliRunner

from keepscore.accounts.models import Membership, Organization
from keepscore.economics.services import spend_set
from keepscore.reports import month, pdf_jobs
from keepscore.scorecard.models import DataRevision
from keepscore.scorecard.services import goal_set, review_add, target_clear, target_set
from tests.funnel.conftest import move, new_lead

pytestmark = pytest.mark.django_db

MONTH = date(2025, 3, 1)


@pytest.fixture(autouse=True)
def home(settings: Any, tmp_path: Any) -> Any:
    settings.KEEPSCORE_HOME = tmp_path  # the PDFs of this test only
    return tmp_path


@pytest.fixture
def renders(monkeypatch: Any) -> list[int]:
    """How many times a PDF was rendered (the renderer itself runs)."""
    count: list[int] = []
    real = month.month_pdf

    def counted(*args: Any, **kwargs: Any) -> bytes:
        count.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(month, "month_pdf", counted)
    return count


def at(day: int) -> datetime:
    return timezone.make_aware(datetime(2025, 3, day, 10, 0))


@pytest.fixture
def won(org_a: Organization, owner_a: Membership) -> Any:
    lead = new_lead(org_a, "Won", at(3))
    move(lead, "customer", at(4), owner_a, revenue="1200")
    return lead


def url(org: Organization) -> str:
    return f"/o/{org.slug}/scorecard/{MONTH:%Y-%m}/export.pdf"


def text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def download(client: Any, org: Organization) -> bytes:
    response = client.get(url(org))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert f'{org.slug}-scorecard-{MONTH:%Y-%m}.pdf"' in response["Content-Disposition"]
    return bytes(response.content)


def revision(org: Organization) -> int:
    return int(DataRevision.objects.get(organization=org).revision)


# --- kept, and rendered again when the data changes ---------------------------------------


def test_the_second_download_is_the_kept_pdf(
    client_a: Any, org_a: Organization, won: Any, renders: list[int]
) -> None:
    first = download(client_a, org_a)
    assert len(renders) == 1
    assert "Acme" in text(first) or "acme" in text(first).lower()
    started = time.perf_counter()
    second = download(client_a, org_a)
    assert len(renders) == 1  # not rendered again
    assert second == first
    assert time.perf_counter() - started < 5  # (the real figure: benchmarks/cli_startup.py)
    [path] = (month._folder(org_a)).glob("*.pdf")
    assert path.read_bytes() == first
    assert path.name.startswith(f"{MONTH:%Y-%m}-")


def test_a_stage_change_in_the_month_renders_it_again(
    client_a: Any, org_a: Organization, owner_a: Membership, won: Any, renders: list[int]
) -> None:
    first = download(client_a, org_a)
    before = revision(org_a)
    lead = new_lead(org_a, "Second", at(10))
    move(lead, "customer", at(12), owner_a, revenue="98765")
    assert revision(org_a) > before
    second = download(client_a, org_a)
    assert len(renders) == 2
    assert second != first
    # the new figures are in it: the revenue of the month went from 1,200 to 99,965
    assert "99,965" in text(second) and "99,965" not in text(first)
    # and only one PDF of the month is kept: the new one
    [path] = month._folder(org_a).glob(f"{MONTH:%Y-%m}-*.pdf")
    assert path.read_bytes() == second


def test_a_target_change_renders_it_again(
    client_a: Any, org_a: Organization, won: Any, renders: list[int]
) -> None:
    first = download(client_a, org_a)
    target_set(organization=org_a, metric_key="revenue", month=MONTH, value="43210")
    second = download(client_a, org_a)
    assert len(renders) == 2
    assert "43,210" in text(second) and "43,210" not in text(first)
    target_clear(organization=org_a, metric_key="revenue", month=MONTH)
    third = download(client_a, org_a)
    assert len(renders) == 3
    assert "43,210" not in text(third)


def test_a_spend_change_renders_it_again(
    client_a: Any, org_a: Organization, owner_a: Membership, won: Any, renders: list[int]
) -> None:
    first = download(client_a, org_a)
    spend_set(organization=org_a, month=MONTH, channel="referral", amount="7654", by=owner_a)
    second = download(client_a, org_a)
    assert len(renders) == 2
    assert "7,654" in text(second) and "7,654" not in text(first)
    download(client_a, org_a)
    assert len(renders) == 2  # kept again


def test_another_organization_never_gets_this_organizations_pdf(
    client: Any,
    org_a: Organization,
    owner_a: Membership,
    org_b: Organization,
    owner_b: Membership,
    won: Any,
    renders: list[int],
) -> None:
    client.force_login(owner_a.user)
    mine = download(client, org_a)
    client.force_login(owner_b.user)
    theirs = download(client, org_b)
    assert len(renders) == 2  # rendered for each, not taken from the other
    assert theirs != mine
    assert org_b.name in text(theirs) and org_a.name not in text(theirs)
    assert month.kept_path(org_a, MONTH) != month.kept_path(org_b, MONTH)
    assert month.kept_path(org_a, MONTH).parent != month.kept_path(org_b, MONTH).parent
    # org B asking for org A's month gets nothing of it (its pages are A's only)
    assert client.get(url(org_a)).status_code == 404
    # a change in org B leaves org A's PDF kept
    before_a = revision(org_a)
    target_set(organization=org_b, metric_key="revenue", month=MONTH, value="500")
    assert revision(org_a) == before_a
    client.force_login(owner_a.user)
    assert download(client, org_a) == mine
    assert len(renders) == 2


# --- what raises the data revision --------------------------------------------------------


def _target(org: Organization, member: Membership) -> None:
    target_set(organization=org, metric_key="new_leads", month=MONTH, value="12")


def _goal(org: Organization, member: Membership) -> None:
    goal_set(organization=org, metric_key="new_leads", year=2025, value="120")


def _spend(org: Organization, member: Membership) -> None:
    spend_set(organization=org, month=MONTH, channel="referral", amount="100", by=member)


def _lead(org: Organization, member: Membership) -> None:
    new_lead(org, "New", at(20))


def _review(org: Organization, member: Membership) -> None:
    review_add(organization=org, month=MONTH, kind="decision", text="Call more", by=member)


def _currency(org: Organization, member: Membership) -> None:
    org.currency = "USD"
    org.save()


@pytest.mark.parametrize(
    "write", [_target, _goal, _spend, _lead, _review, _currency], ids=lambda f: f.__name__
)
def test_each_write_raises_the_revision_and_changes_the_key(
    org_a: Organization, owner_a: Membership, write: Callable[[Organization, Membership], None]
) -> None:
    before_key = month.pdf_key(org_a, MONTH)
    before = revision(org_a)
    write(org_a, owner_a)
    org_a.refresh_from_db()
    assert revision(org_a) > before
    assert month.pdf_key(org_a, MONTH) != before_key


def test_reading_changes_nothing_and_the_key_is_stable(
    client_a: Any, org_a: Organization, won: Any
) -> None:
    key = month.pdf_key(org_a, MONTH)
    before = revision(org_a)
    assert client_a.get(f"/o/{org_a.slug}/scorecard/{MONTH:%Y-%m}/").status_code == 200
    assert revision(org_a) == before
    assert month.pdf_key(org_a, MONTH) == key


def test_a_month_that_runs_is_kept_for_the_day_only(org_a: Organization) -> None:
    this_month = timezone.localdate().replace(day=1)
    today = timezone.localdate()
    assert month.pdf_key(org_a, this_month, today) != month.pdf_key(
        org_a, this_month, today.replace(day=1) if today.day > 1 else today.replace(day=2)
    )
    # a month that is over does not depend on the day
    assert month.pdf_key(org_a, MONTH, date(2026, 1, 5)) == month.pdf_key(
        org_a, MONTH, date(2026, 2, 9)
    )


def test_a_new_organization_has_its_revision(db: Any) -> None:
    made = Organization.objects.create(slug="newco", name="NewCo")
    assert DataRevision.objects.filter(organization=made).count() == 1


# --- the worker's page and the command line use the kept PDF ------------------------------


def test_the_page_offers_a_kept_pdf_at_once(
    client_a: Any, org_a: Organization, won: Any, renders: list[int]
) -> None:
    first = download(client_a, org_a)
    token = pdf_jobs.pdf_request(org_a, MONTH)
    state, detail = pdf_jobs.pdf_state(org_a, MONTH, token)
    assert state == "ready"
    with open(detail, "rb") as ready:
        assert ready.read() == first
    assert len(renders) == 1


def test_the_command_line_keeps_it_too(
    org_a: Organization, won: Any, renders: list[int], tmp_path: Any
) -> None:
    from keepscore.cli.main import app

    runner = CliRunner()
    out1, out2 = tmp_path / "one.pdf", tmp_path / "two.pdf"
    args = ["scorecard", "--org", "acme", "--month", "2025-03", "--format", "pdf"]
    assert runner.invoke(app, [*args, "--out", str(out1)]).exit_code == 0
    assert runner.invoke(app, [*args, "--out", str(out2)]).exit_code == 0
    assert len(renders) == 1
    assert out1.read_bytes() == out2.read_bytes()
    assert out1.read_bytes()[:4] == b"%PDF"

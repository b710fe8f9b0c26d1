"""The scorecard PDF: a real A4 document with the right text, charts, and nothing fetched."""

from __future__ import annotations

import builtins
import io
import re
from dataclasses import replace
from typing import Any

import pytest
from pypdf import PdfReader

from keepscore.reports import pdf as pdf_module
from keepscore.reports.pdf import PdfUnavailable, html_to_pdf, render_pdf, static_path
from keepscore.reports.scorecard import scorecard_context, scorecard_pdf

from .samples import EVIL, build_scorecard, sample_charts


def text_of(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return scorecard_pdf(build_scorecard(), sample_charts())


def test_pdf_is_a_two_page_a4_report(sample_pdf: bytes) -> None:
    assert sample_pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(sample_pdf))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points


def test_pdf_text_has_title_period_metrics_and_review(sample_pdf: bytes) -> None:
    _pages, text = text_of(sample_pdf)
    for expected in (
        "Sales & marketing scorecard",
        "Acme Plumbing & Heating",
        "March 2025",
        "Suspect",
        "Customer",
        "Website visitors",
        "Brochure downloads",
        "New customers",
        "Revenue",
        "118,400",
        "not enough data",
        "On track",
        "Behind",
        "Referral leads close twice as often as ads.",
        "Maria Lopez",
        "Move €1,500 of the ads budget",
        "Page 1 of 2",
    ):
        assert expected in text, expected
    # charts are drawn as vector text, not images
    assert "Funnel, March 2025" in text
    assert "not enough data (3 of 8)" in text
    assert "median 34.5 days" in text
    # a user's markup is shown as text, never run
    assert '<script>alert("x")</script>' in text


def test_pdf_without_charts_or_reviews_fits_one_page() -> None:
    card = build_scorecard(organization="Small & Co")
    card = replace(card, rows=card.rows[:6], reviews=())
    pages, text = text_of(scorecard_pdf(card))
    assert pages == 1
    assert "Small & Co" in text
    assert "No notes or decisions recorded for this month." in text


def test_context_orders_decisions_first_and_formats_numbers() -> None:
    context = scorecard_context(build_scorecard())
    assert context["period"] == "March 2025"
    assert [d["kind"] for d in context["decisions"]] == ["decision"]
    assert [g["key"] for g in context["groups"]] == ["SUSPECT", "PROSPECT", "LEAD", "CUSTOMER"]
    lead = {r.name: r for r in context["groups"][2]["rows"]}["Lead \u2192 qualified"]
    assert lead.value.text == "56%"
    assert lead.value.sub.startswith("28 of 50")
    assert lead.change.text == "\u25b2 +6 pp" and lead.change.css == "good"
    cost = {r.name: r for r in context["groups"][1]["rows"]}["Cost per lead"]
    assert cost.change.css == "good"  # lower is better for a cost
    # the month's value is in the sparkline's description (EUR, the default); paper has no
    # pointer: no hover marks
    assert "Mar 2025: €41.50;" in cost.spark or "Mar 2025: €41.50." in cost.spark
    assert "<title>" not in cost.spark and 'class="mark"' not in cost.spark


# ---------------------------------------------------------------- no network, clear errors


def test_static_path_serves_only_static_files() -> None:
    assert static_path("file:///static/keepscore/report.css") is not None
    assert static_path("/static/keepscore/charts.css") is not None
    assert static_path("file:///keepscore-report/static/keepscore/report.css") is not None
    assert static_path("http://example.com/static/keepscore/report.css") is None
    assert static_path("https://example.com/x.css") is None
    assert static_path("file:///etc/passwd") is None
    assert static_path("file:///static/../etc/passwd") is None
    assert static_path("file:///static/keepscore/missing.css") is None


def test_fetcher_refuses_the_network(caplog: pytest.LogCaptureFixture) -> None:
    import weasyprint

    fetcher = pdf_module._fetcher_class(weasyprint)()
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch("http://example.com/tracker.png")
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch("file:///etc/hostname")
    data = fetcher.fetch("data:text/plain,hi")
    assert data.read() == b"hi"
    data.close()
    response = fetcher.fetch("file:///static/keepscore/report.css")
    assert b"@page" in response.read()
    response.close()


def test_remote_resources_are_not_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the PDF renderer tried the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    html = (
        '<link rel="stylesheet" href="https://cdn.example.com/x.css">'
        '<img src="http://example.com/pixel.png"><p>Offline</p>'
    )
    data = html_to_pdf(html)
    assert "Offline" in text_of(data)[1]


def test_pdf_unavailable_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def broken_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", broken_import)
    with pytest.raises(PdfUnavailable) as caught:
        render_pdf("reports/scorecard_pdf.html", scorecard_context(build_scorecard()))
    message = str(caught.value)
    assert "libpango-1.0-0" in message and "make system-deps" in message
    assert isinstance(caught.value.cause, OSError)
    assert not pdf_module.pdf_available()


def test_evil_label_does_not_leak_markup() -> None:
    from django.template.loader import render_to_string

    html = render_to_string("reports/scorecard_pdf.html", scorecard_context(build_scorecard()))
    assert "<script>" not in html
    assert "=cmd|&#x27; /C calc&#x27;!A0 &lt;script&gt;" in html
    assert EVIL.startswith("=cmd|")

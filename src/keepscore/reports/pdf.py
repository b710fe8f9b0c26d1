"""PDF from a Django template, through WeasyPrint, with nothing fetched from the network.

The template links its stylesheets with ``{% static %}`` as a page would; the PDF's URL
fetcher serves those from the app's own static files (the staticfiles finders, then
``STATIC_ROOT``) and ``data:`` URLs, and refuses everything else (http, https, ftp, other
files on the disk). Charts are inline SVG (``keepscore.reports.charts``), drawn by WeasyPrint.

WeasyPrint needs the Pango library (Debian: libpango-1.0-0, libpangoft2-1.0-0) and a font
(fonts-dejavu-core); ``make system-deps`` installs them. Without them, ``render_pdf`` raises
``PdfUnavailable`` with that advice instead of an ``OSError`` from deep inside cffi.
"""

from __future__ import annotations

import logging
import mimetypes
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# Relative URLs in the HTML resolve against this (a file: URL keeps urljoin's rules);
# only its static/ prefix is ever served, from the app's static files, never the disk.
BASE_URL = "file:///keepscore-report/"

INSTALL_HINT = (
    "PDF export needs WeasyPrint and the Pango text library. Install them with "
    "`make system-deps` (Debian packages libpango-1.0-0, libpangoft2-1.0-0 and "
    "fonts-dejavu-core) and `pip install weasyprint`; CSV and XLSX exports work without them."
)


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it loads (Pango, fonts) are not there."""

    def __init__(self, cause: BaseException | None = None) -> None:
        detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        super().__init__(INSTALL_HINT + detail)
        self.cause = cause


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: cffi could not load libpango/gobject
        raise PdfUnavailable(exc) from exc
    return weasyprint


def static_path(url: str) -> Path | None:
    """The local file behind a static URL (``/static/keepscore/report.css``), if any."""
    static_url = str(settings.STATIC_URL)
    if urlsplit(static_url).scheme and url.startswith(static_url):  # STATIC_URL on a CDN
        url = "/" + url.removeprefix(static_url)
        static_url = "/"
    parts = urlsplit(url)
    if parts.scheme not in ("", "file") or parts.netloc not in ("", "localhost"):
        return None
    prefix = "/" + static_url.strip("/") + "/" if static_url.strip("/") else "/"
    path = unquote(parts.path)
    if path.startswith("/keepscore-report/"):  # a relative URL resolved against BASE_URL
        path = "/" + path.removeprefix("/keepscore-report/")
    if not path.startswith(prefix):
        return None
    relative = path.removeprefix(prefix)
    if not relative or ".." in relative.split("/") or relative.startswith("/"):
        return None
    found = finders.find(relative)
    if isinstance(found, list):
        found = found[0] if found else None
    if found:
        return Path(found)
    root = Path(settings.STATIC_ROOT).resolve()
    candidate = (root / relative).resolve()
    if candidate.is_relative_to(root) and candidate.is_file():
        return candidate
    return None


def _fetch_static(self: Any, url: str, headers: Any = None) -> Any:
    """``URLFetcher.fetch`` for the PDF: static files and data: URLs, nothing else."""
    urls = sys.modules["weasyprint.urls"]
    if url.startswith("data:"):
        return urls.URLFetcher.fetch(self, url, headers)
    path = static_path(url)
    if path is None:
        logger.warning("PDF: refused to fetch %s (only static files are served)", url)
        raise ValueError(f"refused (only the app's static files are served): {url}")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return urls.URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": mime})


def _fetcher_class(weasyprint: Any) -> type:
    """A ``weasyprint.urls.URLFetcher`` that serves the app's static files and data: URLs."""
    return type("StaticOnlyFetcher", (weasyprint.urls.URLFetcher,), {"fetch": _fetch_static})


def html_to_pdf(html: str) -> bytes:
    """An HTML document to PDF bytes (its static stylesheets served locally)."""
    weasyprint = _weasyprint()
    fetcher = _fetcher_class(weasyprint)(allowed_protocols=("file", "data"))
    try:
        document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
        pdf = document.write_pdf()
    except OSError as exc:  # a library loaded lazily (fonts, harfbuzz) is missing
        raise PdfUnavailable(exc) from exc
    return bytes(pdf)


def render_pdf(
    template_name: str, context: dict[str, Any], *, request: HttpRequest | None = None
) -> bytes:
    """Render a Django template to HTML, then to PDF bytes (see the module's docstring)."""
    html = render_to_string(template_name, context, request=request)
    return html_to_pdf(html)


def pdf_available() -> bool:
    """Whether ``render_pdf`` can work here (WeasyPrint imports and finds Pango)."""
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True

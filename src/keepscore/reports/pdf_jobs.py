"""The scorecard PDF made by the background worker, for the page (6-9 s of rendering that
no request waits for); the command line and ``export.pdf`` make it at once. All three keep
it (``keepscore.reports.month``): while the month's data has not changed, a PDF asked for
again is ready at once, without the worker.

A request gets a token: the files ``KEEPSCORE_HOME/pdf/<organization id>/<YYYY-MM>-<token>``
``.queued`` (written when asked), ``.rendering`` (while the worker renders it), ``.pdf``
(the result) or ``.error`` (why there is none). The organization's id and the month are in
the path, so a token shows nothing of another organization or month.
"""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import date
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from keepscore.accounts.models import Organization

TOKEN = re.compile(r"^[0-9a-f]{32}$")
#: results older than this are removed when a new PDF is asked for (seconds)
KEPT_FOR = 24 * 60 * 60


def folder(organization_pk: int) -> Path:
    return Path(settings.KEEPSCORE_HOME) / "pdf" / str(organization_pk)


def _base(organization_pk: int, month: date, token: str) -> Path:
    return folder(organization_pk) / f"{month:%Y-%m}-{token}"


def _old_removed(where: Path) -> None:
    now = timezone.now().timestamp()
    for path in where.glob("*"):
        try:
            if now - path.stat().st_mtime > KEPT_FOR:
                path.unlink()
        except OSError:
            pass


def pdf_request(organization: Organization, month: date) -> str:
    """Enqueue the month's PDF for the worker; its token."""
    from django_q.tasks import async_task

    from keepscore.reports.month import kept_path

    token = uuid.uuid4().hex
    where = folder(organization.pk)
    where.mkdir(parents=True, exist_ok=True)
    _old_removed(where)
    base = _base(organization.pk, month, token)
    kept = kept_path(organization, month)
    if kept.is_file():  # the data has not changed since it was rendered: ready at once
        try:
            shutil.copyfile(kept, base.with_suffix(".part"))
            base.with_suffix(".part").replace(base.with_suffix(".pdf"))
            return token
        except OSError:
            pass  # (removed meanwhile) rendered by the worker, below
    base.with_suffix(".queued").touch()
    async_task(
        "keepscore.reports.tasks.pdf_render",
        organization.pk,
        month.isoformat(),
        token,
        task_name=f"scorecard pdf {organization.pk} {month:%Y-%m}",
        group="pdf",
    )
    return token


def pdf_render(organization_pk: int, month: date, token: str) -> str:
    """The worker's side: render the PDF to its file (or the reason to ``.error``)."""
    from keepscore.reports.month import month_pdf_kept
    from keepscore.reports.pdf import PdfUnavailable

    base = _base(organization_pk, month, token)
    base.with_suffix(".rendering").touch()
    base.with_suffix(".queued").unlink(missing_ok=True)
    organization = Organization.objects.get(pk=organization_pk)
    try:
        body = month_pdf_kept(organization, month)  # kept for the next request
    except PdfUnavailable as error:
        base.with_suffix(".error").write_text(str(error), encoding="utf-8")
        return "unavailable"
    except Exception as error:
        base.with_suffix(".error").write_text(
            f"The PDF could not be made: {error}", encoding="utf-8"
        )
        raise
    finally:
        base.with_suffix(".rendering").unlink(missing_ok=True)
    scratch = base.with_suffix(".part")
    scratch.write_bytes(body)
    scratch.replace(base.with_suffix(".pdf"))
    return "done"


def pdf_state(organization: Organization, month: date, token: str) -> tuple[str, str]:
    """(state, detail): ``ready`` (detail: the file's path), ``failed`` (why), ``waiting``
    (queued longer than a running worker would leave it), ``preparing`` or ``missing``."""
    if not TOKEN.match(token):
        return "missing", ""
    base = _base(organization.pk, month, token)
    pdf = base.with_suffix(".pdf")
    if pdf.is_file():
        return "ready", str(pdf)
    error = base.with_suffix(".error")
    if error.is_file():
        return "failed", error.read_text(encoding="utf-8")
    now = timezone.now().timestamp()
    try:
        rendering = now - base.with_suffix(".rendering").stat().st_mtime
    except OSError:
        pass
    else:
        if rendering > int(getattr(settings, "WORKER_TIMEOUT", 3600)):
            return "failed", "The PDF was not made: the worker stopped. Ask for it again."
        return "preparing", ""
    try:
        waited = now - base.with_suffix(".queued").stat().st_mtime
    except OSError:
        return "missing", ""
    hint = int(getattr(settings, "WORKER_WAIT_HINT", 10))
    return ("waiting" if waited >= hint else "preparing"), ""

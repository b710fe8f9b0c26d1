"""keepscore's mail: one way to send a message, through Django's mail framework.

Every message is rendered from two templates, ``<name>.txt`` and ``<name>.html`` (both must
exist; they extend ``mail/base.txt`` and ``mail/base.html``, whose footer links back to the
app at ``KEEPSCORE_URL``), and sent as one ``EmailMultiAlternatives``: a plain-text body with
an HTML alternative. Where it goes is configured from the environment
(``keepscore.config.email``); by default it is written to a file under
``KEEPSCORE_HOME/mail/``.

    from keepscore import mail
    mail.send(to="ann@example.com", subject="…", template="mail/invitation",
              context={"link": mail.app_url("/invitation/…/")})

A message that cannot be sent raises :class:`MailNotSent` with one line saying why.
Notices nobody waits for (a new lead assigned, the morning digest, the review mail) use
:func:`send_later`: rendered now, sent by the background worker once the transaction that
caused them commits.
"""

from __future__ import annotations

import copy
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


class MailNotSent(Exception):
    """A message the mail server (or the folder) did not take; ``str()`` is one line."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


def app_url(path: str = "") -> str:
    """The absolute address of ``path`` in the app (``KEEPSCORE_URL`` + path)."""
    base = str(settings.KEEPSCORE_URL).rstrip("/")
    if not path:
        return base + "/"
    return base + (path if path.startswith("/") else "/" + path)


def message(
    *,
    to: str | Iterable[str],
    subject: str,
    template: str,
    context: Mapping[str, Any] | None = None,
    attachments: Iterable[Attachment] = (),
) -> EmailMultiAlternatives:
    """The message, rendered, not sent. ``template`` without its extension."""
    recipients = [to] if isinstance(to, str) else list(to)
    full = {"app_url": app_url(), "subject": subject, **(context or {})}
    text = render_to_string(f"{template}.txt", full)
    html = render_to_string(f"{template}.html", full)
    home = app_url()
    if home not in text or home not in html:
        raise ValueError(f"the mail {template} must link back to the app ({home}) in both parts")
    built = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # one line
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        # said to mail programs: sent by a machine, not worth an out-of-office reply
        headers={"Auto-Submitted": "auto-generated"},
    )
    built.attach_alternative(html, "text/html")
    for item in attachments:
        built.attach(item.filename, item.content, item.mimetype)
    return built


def _where() -> str:
    backend = str(settings.EMAIL_BACKEND)
    if backend.endswith("smtp.EmailBackend"):
        return f"the mail server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if backend.endswith("filebased.EmailBackend"):
        return f"the folder {getattr(settings, 'EMAIL_FILE_PATH', '')}"
    return backend.rsplit(".", 2)[-2]


def deliver(built: EmailMultiAlternatives) -> None:
    """Send a message made by :func:`message`; :class:`MailNotSent` when it cannot go."""
    try:
        built.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        to = ", ".join(built.to)
        raise MailNotSent(
            f"the mail to {to} could not be sent through {_where()}: {reason}"
        ) from error


def send(
    *,
    to: str | Iterable[str],
    subject: str,
    template: str,
    context: Mapping[str, Any] | None = None,
    attachments: Iterable[Attachment] = (),
) -> EmailMultiAlternatives:
    """Render and send one message (see the module's description); the message sent."""
    built = message(
        to=to, subject=subject, template=template, context=context, attachments=attachments
    )
    deliver(built)
    return built


def deliver_queued(built: EmailMultiAlternatives) -> None:
    """The worker's side of :func:`send_later`: send a copy, so the task's argument stays
    as it was queued (sending sets a connection on the message, which the worker's record of
    the task could not store)."""
    deliver(copy.copy(built))


def send_later(
    *,
    to: str | Iterable[str],
    subject: str,
    template: str,
    context: Mapping[str, Any] | None = None,
    attachments: Iterable[Attachment] = (),
) -> EmailMultiAlternatives:
    """Render the message now and hand it to the background worker once the current
    transaction commits (nothing is sent for a write that is rolled back). A message the
    server refuses is the worker's failed task (``keepscore worker`` logs it)."""
    from django.db import transaction
    from django_q.tasks import async_task

    built = message(
        to=to, subject=subject, template=template, context=context, attachments=attachments
    )
    transaction.on_commit(
        lambda: async_task(
            "keepscore.mail.deliver_queued",
            built,
            task_name=f"mail: {built.subject}"[:100],
            group="mail",
        )
    )
    return built

"""Where keepscore's mail goes, from the environment (read by ``keepscore.config.settings``).

``EMAIL_URL`` names it in one line:

- ``smtp://user:password@host:587/?tls=1`` — an SMTP server (port 25 unless given; ``tls=1``
  STARTTLS, ``ssl=1`` TLS from the first byte, ``timeout=N`` seconds)
- ``smtp+tls://…`` (port 587, STARTTLS) and ``smtps://…`` (port 465, TLS) as shorthands
- ``file:///path/to/folder`` — each message written to a file in that folder
- ``console://`` — each message printed on the standard output
- ``memory://`` — kept in memory (Django's ``locmem`` backend; for tests)

A user name or password holding ``@``, ``:`` or ``/`` is written percent-encoded
(``%40``, ``%3A``, ``%2F``). Without ``EMAIL_URL`` the usual variables are read:
``EMAIL_HOST`` (then SMTP), ``EMAIL_PORT``, ``EMAIL_HOST_USER``, ``EMAIL_HOST_PASSWORD``,
``EMAIL_USE_TLS``, ``EMAIL_USE_SSL``, ``EMAIL_TIMEOUT``; with neither, messages are written
as files under ``KEEPSCORE_HOME/mail/`` so nothing needs a mail server.

A setting that cannot be read raises :class:`ValueError` with one line naming the variable
and what is wrong, never the password.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SMTP = "django.core.mail.backends.smtp.EmailBackend"
FILE = "django.core.mail.backends.filebased.EmailBackend"
CONSOLE = "django.core.mail.backends.console.EmailBackend"
MEMORY = "django.core.mail.backends.locmem.EmailBackend"

#: scheme -> (default port, STARTTLS, TLS from the start)
_SMTP_SCHEMES = {
    "smtp": (25, False, False),
    "smtp+tls": (587, True, False),
    "smtps": (465, False, True),
}
_OTHER_SCHEMES = {"file": FILE, "console": CONSOLE, "memory": MEMORY, "locmem": MEMORY}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
DEFAULT_TIMEOUT = 10  # seconds: a mail server that does not answer does not hang a page


def _flag(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name}: {value!r} is not on or off (use 1 or 0)")


def _number(value: str, name: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a whole number") from None
    if number <= 0:
        raise ValueError(f"{name}: {value!r} must be above 0")
    return number


def _port_of(netloc: str) -> str:
    """The text after the host's last colon (``""`` when none), without parsing it."""
    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):  # an IPv6 address: [::1]:25
        host = host.partition("]")[2]
    return host.rpartition(":")[2] if ":" in host else ""


def from_url(url: str, *, home: Path) -> dict[str, Any]:
    """The Django settings ``EMAIL_URL`` stands for."""
    name = "EMAIL_URL"
    try:
        parts = urlsplit(url.strip())
    except ValueError as error:
        raise ValueError(f"{name} cannot be read: {error}") from None
    scheme = parts.scheme.lower()
    known = ", ".join(f"{s}://" for s in (*_SMTP_SCHEMES, "file", "console"))
    if not scheme:
        raise ValueError(f"{name} has no scheme: start it with one of {known}")
    query: dict[str, str] = {}
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        query[key.lower()] = values[-1]
    if scheme in _OTHER_SCHEMES:
        backend = _OTHER_SCHEMES[scheme]
        found: dict[str, Any] = {"EMAIL_BACKEND": backend}
        if backend == FILE:
            folder = unquote(parts.path) or str(home / "mail")
            if parts.netloc:
                raise ValueError(
                    f"{name}: a folder is written file:///path/to/folder (three slashes), "
                    f"not file://{parts.netloc}/…"
                )
            found["EMAIL_FILE_PATH"] = folder
        return found
    if scheme not in _SMTP_SCHEMES:
        raise ValueError(f"{name}: unknown scheme {scheme}:// (use one of {known})")
    port, tls, ssl = _SMTP_SCHEMES[scheme]
    port_text = _port_of(parts.netloc)
    if port_text:
        port = _number(port_text, f"{name}'s port")
        if port > 65535:
            raise ValueError(f"{name}'s port: {port} is above 65535")
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"{name} names no mail server: write {scheme}://host:port/")
    unknown = sorted(set(query) - {"tls", "ssl", "timeout"})
    if unknown:
        raise ValueError(f"{name}: unknown option {', '.join(unknown)} (use tls, ssl, timeout)")
    if "tls" in query:
        tls = _flag(query["tls"], f"{name}'s tls")
    if "ssl" in query:
        ssl = _flag(query["ssl"], f"{name}'s ssl")
    if tls and ssl:
        raise ValueError(f"{name}: choose tls (STARTTLS) or ssl, not both")
    timeout = _number(query["timeout"], f"{name}'s timeout") if "timeout" in query else None
    return {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": host,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": tls,
        "EMAIL_USE_SSL": ssl,
        "EMAIL_TIMEOUT": timeout or DEFAULT_TIMEOUT,
    }


def from_environment(environ: Mapping[str, str], *, home: Path) -> dict[str, Any]:
    """The mail settings: ``EMAIL_URL``, else ``EMAIL_HOST`` and its companions, else files
    under ``home/mail``."""
    url = environ.get("EMAIL_URL", "").strip()
    if url:
        return from_url(url, home=home)
    host = environ.get("EMAIL_HOST", "").strip()
    if not host:
        return {"EMAIL_BACKEND": FILE, "EMAIL_FILE_PATH": str(home / "mail")}
    tls = _flag(environ.get("EMAIL_USE_TLS", ""), "EMAIL_USE_TLS")
    ssl = _flag(environ.get("EMAIL_USE_SSL", ""), "EMAIL_USE_SSL")
    if tls and ssl:
        raise ValueError("EMAIL_USE_TLS and EMAIL_USE_SSL: choose one, not both")
    default_port = 465 if ssl else 587 if tls else 25
    port = environ.get("EMAIL_PORT", "").strip()
    timeout = environ.get("EMAIL_TIMEOUT", "").strip()
    return {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": host,
        "EMAIL_PORT": _number(port, "EMAIL_PORT") if port else default_port,
        "EMAIL_HOST_USER": environ.get("EMAIL_HOST_USER", ""),
        "EMAIL_HOST_PASSWORD": environ.get("EMAIL_HOST_PASSWORD", ""),
        "EMAIL_USE_TLS": tls,
        "EMAIL_USE_SSL": ssl,
        "EMAIL_TIMEOUT": _number(timeout, "EMAIL_TIMEOUT") if timeout else DEFAULT_TIMEOUT,
    }


def app_url(raw: str) -> str:
    """``KEEPSCORE_URL``: the app's address as people reach it (links in mails), without a
    trailing slash."""
    text = raw.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"KEEPSCORE_URL: {raw!r} is not the app's address (write e.g. https://crm.example.com)"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"KEEPSCORE_URL: {raw!r} has a query or fragment: leave them out")
    return text


def default_sender(url: str) -> str:
    """``keepscore@`` the app's host name (``localhost`` for an address or a bare name)."""
    host = urlsplit(url).hostname or "localhost"
    try:
        ipaddress.ip_address(host)
        host = "localhost"
    except ValueError:
        if "." not in host:
            host = "localhost"
    return f"keepscore <keepscore@{host}>"

"""What every command shares: lazy Django setup, one-line errors, the organization to use.

Commands import Django models only inside their bodies, after :func:`django_setup`, so
``keepscore --help`` stays fast and works without a database.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.console import Console
from rich.markup import escape

from keepscore.audit.context import Actor, acting

if TYPE_CHECKING:
    from keepscore.accounts.models import Organization

#: exit codes: 1 when something went wrong, 2 when the command was used wrongly
EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure to show as one line on stderr, then exit with ``code``."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- output -----------------------------------------------------------------------------


def stdout() -> Console:
    # a new console per call: it follows sys.stdout as it is now (tests swap it)
    return Console(soft_wrap=True, highlight=False)


def stderr() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


@contextmanager
def progress_bar() -> Iterator[Callable[[str, float], None]]:
    """A progress bar on stderr (gone when done), as ``update(phase, fraction)``."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        console=stderr(),
        transient=True,
    ) as bar:
        task = bar.add_task("reading", total=1.0)

        def update(phase: str, fraction: float) -> None:
            bar.update(task, description=phase, completed=fraction)

        yield update


def say(message: str) -> None:
    """A line on stdout; ``message`` may use Rich markup (escape what users typed)."""
    stdout().print(message)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    raise CliError(message, code)


# --- errors -----------------------------------------------------------------------------


def validation_message(error: BaseException) -> str:
    """``field: message; other: message`` from a Django ValidationError."""
    from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

    if not isinstance(error, ValidationError):
        return one_line(str(error))
    if hasattr(error, "error_dict"):
        parts = []
        for field, errors in error.message_dict.items():
            text = " ".join(one_line(m) for m in errors)
            parts.append(text if field == NON_FIELD_ERRORS else f"{field}: {text}")
        return "; ".join(parts)
    return " ".join(one_line(m) for m in error.messages)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _report(message: str, code: int) -> NoReturn:
    stderr().print(f"[bold red]error:[/] [red]{escape(mask_secrets(one_line(message)))}[/]")
    raise typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Turn every failure inside a command into one red line on stderr and exit 1 or 2.

    Set ``KEEPSCORE_TRACEBACK=1`` to see the traceback of an unexpected error. What the
    command writes is recorded in the audit log as done at the machine (``via="cli"``).
    """
    try:
        with acting(Actor(via="cli")):
            yield
    except (typer.Exit, typer.Abort):
        raise
    except CliError as error:
        _report(error.message, error.code)
    except KeyboardInterrupt:
        _report("interrupted", 130)
    except Exception as error:
        from django.core.exceptions import ImproperlyConfigured, ValidationError
        from django.core.management import CommandError
        from django.db import DatabaseError

        if isinstance(error, ValidationError):
            _report(validation_message(error), EXIT_ERROR)
        if isinstance(error, CommandError):
            _report(_first_line(error), getattr(error, "returncode", EXIT_ERROR) or EXIT_ERROR)
        if isinstance(error, DatabaseError):
            _report(f"database error at {database_description()}: {_first_line(error)}", 1)
        if isinstance(error, ImproperlyConfigured):
            _report(f"configuration: {_first_line(error)}", EXIT_ERROR)
        if os.environ.get("KEEPSCORE_TRACEBACK"):
            raise
        _report(
            f"{type(error).__name__}: {_first_line(error)} "
            "(set KEEPSCORE_TRACEBACK=1 to see the traceback)",
            EXIT_ERROR,
        )


# --- Django -----------------------------------------------------------------------------


def django_setup() -> None:
    """Set Django up once, with ``keepscore.config.settings`` unless told otherwise."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keepscore.config.settings")
    from django.apps import apps

    if apps.ready:
        return
    import django

    try:
        django.setup()
    except (ValueError, OSError) as error:
        # a malformed DATABASE_URL, an unwritable KEEPSCORE_HOME, …
        fail(f"cannot load the settings: {_first_line(error)}")


_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@", re.I)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            netloc = f"{parts.username or ''}:***@{host}"
            if parts.port is not None:
                netloc += f":{parts.port}"
            return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass
    return _URL_PASSWORD.sub(r"\g<scheme>\g<user>:***@", url)


def _secrets() -> list[str]:
    found = []
    for name in ("DATABASE_URL", "EMAIL_URL"):
        url = os.environ.get(name, "")
        if url:
            try:
                password = urlsplit(url).password
            except ValueError:
                password = None
            if password:
                found.append(password)
    if os.environ.get("EMAIL_HOST_PASSWORD"):
        found.append(os.environ["EMAIL_HOST_PASSWORD"])
    from django.apps import apps

    if apps.ready:
        from django.conf import settings

        password = settings.DATABASES.get("default", {}).get("PASSWORD")
        if password:
            found.append(str(password))
    return found


def mask_secrets(text: str) -> str:
    """Never show a database password, whatever the message that carries it."""
    text = _URL_PASSWORD.sub(r"\g<scheme>\g<user>:***@", text)
    for secret in _secrets():
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def database_description() -> str:
    """Where the database is, password masked: the DATABASE_URL or the SQLite file."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return mask_url(url)
    from django.apps import apps

    if apps.ready:
        from django.conf import settings

        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith(("sqlite3", "sqlite")):
            return f"sqlite:///{db['NAME']}"
        return f"{db['ENGINE'].rsplit('.', 1)[-1]}://{db.get('HOST', '')}/{db['NAME']}"
    return "the default SQLite database"


def database_check() -> None:
    """Open a connection, or fail with where the database is and why it cannot be reached."""
    from django.db import DatabaseError, connection

    try:
        connection.ensure_connection()
    except DatabaseError as error:
        fail(f"cannot reach the database at {database_description()}: {_first_line(error)}")


def _migrations_on_disk() -> set[tuple[str, str]]:
    """Every migration there is, as ``(app label, name)``, found by listing each app's
    migrations package (as Django's loader lists it) without importing the files."""
    import pkgutil
    from importlib.util import find_spec

    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    found: set[tuple[str, str]] = set()
    for app_config in apps.get_app_configs():
        module, _ = MigrationLoader.migrations_module(app_config.label)
        if module is None:
            continue
        try:
            spec = find_spec(module)
        except ImportError:
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for entry in pkgutil.iter_modules(spec.submodule_search_locations):
            if not entry.ispkg and entry.name[0] not in "_~":
                found.add((app_config.label, entry.name))
    return found


def migrations_pending() -> int:
    """How many migrations are not applied yet.

    Every command asks this; when each migration file is recorded as applied (the usual
    case) the answer is 0 without loading the migrations (which takes longer than many a
    command). Otherwise Django's migration plan counts them.
    """
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    if recorder.has_table() and _migrations_on_disk() <= set(recorder.applied_migrations()):
        return 0
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def migrate(*, verbose: bool = False) -> int:
    """Apply what is pending; returns how many migrations were applied."""
    from django.core.management import call_command

    database_check()
    pending = migrations_pending()
    if pending:
        call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    return pending


def migrate_if_needed() -> None:
    applied = migrate()
    if applied:
        say(f"Database ready at {escape(database_description())} ({applied} migrations applied).")


# --- the organization to work on --------------------------------------------------------


def organization_resolve(slug: str | None) -> Organization:
    """The organization named by ``--org``, or the only one there is.

    Fails with the list of slugs when there are several and none was given, or when the
    slug is unknown.
    """
    from keepscore.accounts.models import Organization

    slugs = list(Organization.objects.order_by("slug").values_list("slug", flat=True))
    if slug:
        organization = Organization.objects.filter(slug=slug.strip().lower()).first()
        if organization is None:
            known = ", ".join(slugs) if slugs else "none yet (create one with `keepscore init`)"
            fail(f"no organization {slug!r}; organizations: {known}")
        return _money_of(organization)
    if not slugs:
        fail("there is no organization yet: create one with `keepscore init`")
    if len(slugs) > 1:
        fail(
            f"there are {len(slugs)} organizations ({', '.join(slugs)}): "
            "choose one with --org SLUG",
            EXIT_USAGE,
        )
    return _money_of(Organization.objects.get(slug=slugs[0]))


def _money_of(organization: Organization) -> Organization:
    """The command writes money in the organization's currency (until it ends: the app's
    callback, ``keepscore.cli.main``)."""
    from keepscore.common.money import money_activate

    money_activate(organization)
    return organization


def password_read(path: Path) -> str:
    """The password in the first line of ``path`` (``-`` reads standard input)."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read the password file {path}: {error.strerror or error}")
    lines = text.splitlines()
    password = lines[0].strip() if lines else ""
    if not password:
        fail(f"the password file {path} is empty")
    return password


def login_url(host: str = "127.0.0.1", port: int = 8000) -> str:
    return f"{server_url(host, port)}login/"


def server_url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"

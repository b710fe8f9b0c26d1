"""``keepscore serve`` and ``keepscore migrate``: run the web app with gunicorn."""

from __future__ import annotations

import errno
import os
import socket
from typing import Annotated, Any

import typer
from rich.markup import escape

from keepscore.cli.common import (
    EXIT_USAGE,
    database_check,
    database_description,
    django_setup,
    errors,
    fail,
    migrate_if_needed,
    say,
    server_url,
)
from keepscore.cli.common import migrate as migrate_database
from keepscore.cli.worker import worker_start, worker_stop


def migrate(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show each migration as it is applied.")
    ] = False,
) -> None:
    """Create or update the database tables (quiet unless --verbose)."""
    with errors():
        django_setup()
        applied = migrate_database(verbose=verbose)
        where = escape(database_description())
        if applied:
            say(f"Applied {applied} migrations to {where}.")
        else:
            say(f"The database at {where} is up to date.")


def port_check(host: str, port: int) -> None:
    """Fail with a one-line explanation unless ``host:port`` can be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        fail(f"cannot listen on host {host!r}: {error.strerror or error}", EXIT_USAGE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        # like gunicorn: connections still closing (TIME_WAIT) do not block the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            fail(f"port {port} on {host} is in use — pick another with --port")
        if error.errno == errno.EACCES:
            fail(f"no permission to listen on port {port} on {host} — pick a port above 1023")
        if error.errno == errno.EADDRNOTAVAIL:
            fail(f"{host} is not an address of this machine — use --host 127.0.0.1 or 0.0.0.0")
        fail(f"cannot listen on port {port} on {host}: {error.strerror or error}")
    finally:
        sock.close()


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _gunicorn_run(*, host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from keepscore.config.wsgi import application

    options: dict[str, Any] = {
        "bind": _bind_address(host, port),
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "proc_name": "keepscore",
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "warning",
        "control_socket_disable": True,
    }

    class KeepscoreServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    # never share the checks' database connection with forked workers
    connections.close_all()
    KeepscoreServer().run()


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=64, help="Worker processes.")
    ] = 2,
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=64, help="Threads per worker.")
    ] = 4,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log each request to stdout.")
    ] = True,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Start the background worker beside the web server (stopped with it).",
        ),
    ] = True,
) -> None:
    """Serve the web app with gunicorn (not a development server), and the background worker.

    Checks first that the port is free and the database reachable, applies pending
    migrations and collects the static files. With --no-worker, run ``keepscore worker``
    yourself: big imports and the scorecard PDF wait for it.
    """
    with errors():
        port_check(host, port)
        if not os.environ.get("KEEPSCORE_URL", "").strip() and host not in ("0.0.0.0", "::"):
            # links in mails point at where this server listens, unless told otherwise
            os.environ["KEEPSCORE_URL"] = server_url(host, port).rstrip("/")
        django_setup()
        database_check()
        migrate_if_needed()

        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)

        from django.conf import settings

        url = server_url(host, port)
        say(f"keepscore is serving at [bold]{url}[/] (gunicorn, {workers} workers) — Ctrl+C stops")
        if host not in ("127.0.0.1", "localhost", "::1"):
            allowed = ", ".join(settings.ALLOWED_HOSTS)
            say(
                f"[dim]Requests are accepted for the host names in ALLOWED_HOSTS ({allowed}); "
                "set that variable to the name people use.[/]"
            )
        child = worker_start() if worker else None
        if child is not None:
            say(f"The background worker runs beside it (process {child.pid}).")
        parent = os.getpid()
        try:
            _gunicorn_run(
                host=host, port=port, workers=workers, threads=threads, access_log=access_log
            )
        finally:
            # gunicorn's forked workers leave through here too: only the server stops it
            if child is not None and os.getpid() == parent:
                worker_stop(child)

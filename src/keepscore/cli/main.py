"""The ``keepscore`` command: ``keepscore --help`` lists what it does.

Each command lives in its own module of this package and is registered here. Django is set
up inside the commands (``keepscore.cli.common.django_setup``), never at import.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from rich.markup import escape
from typer.exceptions import TyperException

from keepscore.cli.common import mask_secrets, stderr

#: every command, in the order ``keepscore --help`` lists them: its name, the module that
#: holds it and the name there (a function is a command, a Typer app a group of commands).
#: Only the module of the command that runs is imported (``keepscore scorecard`` does not
#: load the import, backup or worker code); ``--help`` loads them all, to list them.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("init", "accounts", "init"),
    ("createuser", "accounts", "createuser"),
    ("setpassword", "accounts", "setpassword"),
    ("invite", "accounts", "invite"),
    ("migrate", "serve", "migrate"),
    ("serve", "serve", "serve"),
    ("worker", "worker", "worker"),
    ("demo", "demo", "demo"),
    ("import", "imports", "app"),
    ("export", "exports", "export"),
    ("token", "tokens", "app"),
    ("review", "review", "app"),
    ("person", "person", "app"),
    ("digest", "digest", "app"),
    ("scorecard", "scorecard", "scorecard"),
    ("funnel", "funnel", "funnel"),
    ("activity", "activity", "activity"),
    ("economics", "economics", "economics"),
    ("jobs", "jobs", "jobs"),
    ("objections", "jobs", "objections"),
    ("focus", "focus", "focus"),
    ("plan", "plan", "plan"),
    ("backtest", "backtest", "backtest"),
    ("plan-backtest", "plan_backtest", "plan_backtest"),
    ("tasks", "tasks", "tasks"),
    ("audit", "audit", "audit"),
    ("metrics", "metrics", "metrics_app"),
    ("target", "metrics", "target_app"),
    ("goal", "metrics", "goal_app"),
    ("spend", "spend", "spend_app"),
    ("cash", "spend", "cash_app"),
    ("summaries", "summaries", "summaries_app"),
    ("backup", "backup", "backup"),
    ("restore", "backup", "restore"),
)

NAMES = frozenset(name for name, _, _ in COMMANDS)


def _each_command(ctx: typer.Context) -> None:
    """Before every command: the organization a command works on writes its money in its own
    currency (``organization_resolve`` activates it) until the command ends, and no longer
    (commands run one after another in one process in the tests)."""
    # not loaded yet, no organization's money is active (``keepscore --help`` and a
    # command's ``--help`` need neither it nor the settings it reads)
    money = sys.modules.get("keepscore.common.money")
    before = money.money_scope_start() if money is not None else None

    def end() -> None:
        loaded = sys.modules.get("keepscore.common.money")
        if loaded is not None:
            loaded.money_scope_end(before)()

    ctx.call_on_close(end)


def app_with(names: frozenset[str] | None = None) -> typer.Typer:
    """The ``keepscore`` app with the commands named (all of them when ``None``)."""
    from importlib import import_module

    built = typer.Typer(
        name="keepscore",
        help="keepscore: the sales & marketing scorecard for small businesses.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    built.callback()(_each_command)
    for name, module, attribute in COMMANDS:
        if names is not None and name not in names:
            continue
        target = getattr(import_module(f"keepscore.cli.{module}"), attribute)
        if isinstance(target, typer.Typer):
            built.add_typer(target, name=name)
        else:
            built.command(name)(target)
    return built


def _app_for(argv: list[str]) -> typer.Typer:
    """Only the command asked for (its module alone imported); all of them for ``--help``,
    no command, or a name that is not a command (to list them, or suggest one)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    if first in NAMES and not any(arg in ("-h", "--help") for arg in argv[: argv.index(first)]):
        return app_with(frozenset({first}))
    return app_with()


def __getattr__(name: str) -> Any:
    # ``from keepscore.cli.main import app``: the whole app, built on first use (the tests
    # run its commands in process); the console script builds only the command it runs
    if name == "app":
        built = app_with()
        globals()["app"] = built
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    """The console script: the app, with a last guard so no traceback reaches the user."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keepscore.config.settings")
    try:
        code = _app_for(sys.argv[1:])(prog_name="keepscore", standalone_mode=False)
    except TyperException as error:
        # a usage error (unknown option, bad value, …): one line, not a box
        show = getattr(error, "show", None)
        if type(error).__name__ == "NoArgsIsHelpError" and show is not None:
            show()  # the help, as asked for by running `keepscore` alone
            sys.exit(error.exit_code)
        ctx = getattr(error, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = " ".join(error.format_message().split())
        stderr().print(f"[bold red]error:[/] [red]{escape(message)}{escape(hint)}[/]")
        sys.exit(error.exit_code)
    except typer.Abort:
        sys.stderr.write("error: aborted\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    except Exception as error:  # commands report their own errors; this is the last guard
        if os.environ.get("KEEPSCORE_TRACEBACK"):
            raise
        message = mask_secrets(" ".join(str(error).split())) or type(error).__name__
        sys.stderr.write(f"error: {type(error).__name__}: {message}\n")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()

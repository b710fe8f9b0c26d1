"""The ``keepscore`` command: ``keepscore --help`` lists what it does.

Each command lives in its own module of this package and is registered here. Django is set
up inside the commands (``keepscore.cli.common.django_setup``), never at import.
"""

from __future__ import annotations

import os
import sys

import typer
from rich.markup import escape
from typer.exceptions import TyperException

from keepscore.cli import accounts, demo, digest, imports, metrics, person, review, serve, tokens
from keepscore.cli.activity import activity
from keepscore.cli.audit import audit
from keepscore.cli.backtest import backtest
from keepscore.cli.backup import backup, restore
from keepscore.cli.common import mask_secrets, stderr
from keepscore.cli.economics import economics
from keepscore.cli.exports import export
from keepscore.cli.focus import focus
from keepscore.cli.funnel import funnel
from keepscore.cli.jobs import jobs, objections
from keepscore.cli.plan import plan
from keepscore.cli.plan_backtest import plan_backtest
from keepscore.cli.scorecard import scorecard
from keepscore.cli.spend import cash_app, spend_app
from keepscore.cli.summaries import summaries_app
from keepscore.cli.tasks import tasks
from keepscore.cli.worker import worker
from keepscore.common.money import money_scope_end, money_scope_start

app = typer.Typer(
    name="keepscore",
    help="keepscore: the sales & marketing scorecard for small businesses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _each_command(ctx: typer.Context) -> None:
    """Before every command: the organization a command works on writes its money in its own
    currency (``organization_resolve`` activates it) until the command ends, and no longer
    (commands run one after another in one process in the tests)."""
    ctx.call_on_close(money_scope_end(money_scope_start()))


app.command("init")(accounts.init)
app.command("createuser")(accounts.createuser)
app.command("setpassword")(accounts.setpassword)
app.command("invite")(accounts.invite)
app.command("migrate")(serve.migrate)
app.command("serve")(serve.serve)
app.command("worker")(worker)
app.command("demo")(demo.demo)
app.add_typer(imports.app, name="import")
app.command("export")(export)
app.add_typer(tokens.app, name="token")
app.add_typer(review.app, name="review")
app.add_typer(person.app, name="person")
app.add_typer(digest.app, name="digest")
app.command("scorecard")(scorecard)
app.command("funnel")(funnel)
app.command("activity")(activity)
app.command("economics")(economics)
app.command("jobs")(jobs)
app.command("objections")(objections)
app.command("focus")(focus)
app.command("plan")(plan)
app.command("backtest")(backtest)
app.command("plan-backtest")(plan_backtest)
app.command("tasks")(tasks)
app.command("audit")(audit)
app.add_typer(metrics.metrics_app, name="metrics")
app.add_typer(metrics.target_app, name="target")
app.add_typer(metrics.goal_app, name="goal")
app.add_typer(spend_app, name="spend")
app.add_typer(cash_app, name="cash")
app.add_typer(summaries_app, name="summaries")
app.command("backup")(backup)
app.command("restore")(restore)


def run() -> None:
    """The console script: the app, with a last guard so no traceback reaches the user."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keepscore.config.settings")
    try:
        code = app(prog_name="keepscore", standalone_mode=False)
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

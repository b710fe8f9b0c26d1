"""What a ``keepscore`` command loads before it runs: only what it uses.

Start-up time is what people feel; it is measured by ``benchmarks/cli_startup.py``, not
here (times depend on the machine). These tests pin down why it is short: the modules a
real process has loaded after ``--help`` and after ``scorecard`` on a small organization.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from keepscore.cli import main

#: never needed to list the commands (Django, its models, the heavy libraries)
HEAVY = (
    "django",
    "django.db.models",
    "django.apps",
    "pydantic",
    "ninja",
    "weasyprint",
    "duckdb",
    "pandas",
    "numpy",
    "matplotlib",
    "openpyxl",
    "babel",
)

#: the code of another command, or a library the scorecard in the terminal does not use
NOT_FOR_THE_SCORECARD = (
    "weasyprint",
    "duckdb",
    "pandas",
    "matplotlib",
    "openpyxl",
    "ninja",
    "keepscore.api.api",
    "keepscore.cli.imports",
    "keepscore.cli.backup",
    "keepscore.cli.worker",
    "keepscore.cli.serve",
    "keepscore.cli.demo",
    "keepscore.scorecard.views",
    "keepscore.scorecard.export_views",
    "keepscore.scorecard.review_views",
    "keepscore.scorecard.targets_views",
    "keepscore.focus.selectors",  # the diagnosis: loaded by the first review entry, not Django
    "django.db.migrations.executor",
    "django.db.migrations.autodetector",
)

RUN = """
import json, sys
report = sys.argv[2]
sys.argv = ["keepscore", *json.loads(sys.argv[1])]
from keepscore.cli.main import run
code = 0
try:
    run()
except SystemExit as done:
    code = done.code
with open(report, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def subprocess_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(KEEPSCORE_HOME=str(home), DJANGO_SETTINGS_MODULE="keepscore.config.settings")
    return env


def loaded(home: Path, *args: str) -> tuple[int, set[str], str]:
    """Run ``keepscore ARGS`` in a new process: its exit code, the modules it had loaded
    when it ended, and what it printed."""
    report = home / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(list(args)), str(report)],
        env=subprocess_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.exists(), done.stderr
    found = json.loads(report.read_text())
    return found["code"], set(found["modules"]), done.stdout + done.stderr


def test_a_usage_error_loads_no_django(tmp_path: Path) -> None:
    code, modules, output = loaded(tmp_path, "--no-such-option")
    assert code == 2
    assert "error:" in output
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_help_lists_the_commands_without_django_or_heavy_libraries(tmp_path: Path) -> None:
    code, modules, output = loaded(tmp_path, "--help")
    assert code == 0
    for name, _, _ in main.COMMANDS:
        assert name in output
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    # every command's module was read, to list it
    assert {f"keepscore.cli.{module}" for _, module, _ in main.COMMANDS} <= modules


def test_a_command_loads_its_own_module_only(tmp_path: Path) -> None:
    code, modules, output = loaded(tmp_path, "scorecard", "--help")
    assert code == 0
    assert "--month" in output
    assert "keepscore.cli.scorecard" in modules
    others = {f"keepscore.cli.{m}" for _, m, _ in main.COMMANDS} - {"keepscore.cli.scorecard"}
    assert not modules & others, sorted(modules & others)
    # Typer reads a command's options with pydantic: the one heavy library it needs
    heavy = set(HEAVY) - {"pydantic"}
    assert not modules & heavy, sorted(modules & heavy)


def test_scorecard_of_a_small_organization_loads_only_what_it_shows(tmp_path: Path) -> None:
    code, _, output = loaded(
        tmp_path, "init", "--org", "acme", "--owner", "o@acme.test", "--name", "Acme", "--no-input"
    )
    assert code == 0, output
    code, modules, output = loaded(tmp_path, "scorecard", "--month", "2025-03")
    assert code == 0, output
    assert "Acme" in output and "March 2025" in output
    assert "django.db.models" in modules  # it did read the database
    assert not modules & set(NOT_FOR_THE_SCORECARD), sorted(modules & set(NOT_FOR_THE_SCORECARD))
    # the database was up to date: the migration files were not loaded to find that out
    assert not [m for m in modules if ".migrations.0" in m]


def test_every_command_resolves_and_the_whole_app_has_them_all() -> None:
    from typer.main import get_command

    group: Any = get_command(main.app)
    assert sorted(group.commands) == sorted(main.NAMES)
    assert len(main.NAMES) == len(main.COMMANDS)  # no name twice
    for name in main.NAMES:
        one: Any = get_command(main.app_with(frozenset({name})))
        assert sorted(one.commands) == [name]


def test_migrations_on_disk_are_the_ones_django_loads(db: Any) -> None:
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from keepscore.cli.common import _migrations_on_disk, migrations_pending

    assert _migrations_on_disk() == set(MigrationLoader(connection).disk_migrations)
    assert migrations_pending() == 0


def test_a_migration_not_recorded_is_pending(db: Any) -> None:
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from keepscore.cli.common import migrations_pending

    recorder = MigrationRecorder(connection)
    last = sorted(n for app, n in recorder.applied_migrations() if app == "scorecard")[-1]
    recorder.record_unapplied("scorecard", last)
    try:
        assert migrations_pending() == 1
    finally:
        recorder.record_applied("scorecard", last)

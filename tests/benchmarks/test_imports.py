"""The benchmarks and scripts import keepscore by name, often inside functions, where mypy
(which checks the package) does not look: every name they import must still exist (a module
split once broke the scale benchmark after its first minutes)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_keepscore_name_the_benchmarks_and_scripts_import_exists() -> None:
    missing: list[str] = []
    checked = 0
    for path in sorted(
        [*ROOT.joinpath("benchmarks").glob("*.py"), *ROOT.joinpath("scripts").glob("*.py")]
    ):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keepscore"):
                module = importlib.import_module(str(node.module))
                for alias in node.names:
                    checked += 1
                    if hasattr(module, alias.name):
                        continue
                    try:
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        missing.append(f"{path.name}: {node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("keepscore"):
                        checked += 1
                        importlib.import_module(alias.name)
    assert missing == []
    assert checked > 50

"""The code's shape, as issue 17 asks it: no module over 600 lines (migrations aside), and
each opens with a line saying what it holds. (Which way imports point is checked by
import-linter in ``make lint``: the contracts in pyproject.toml.)"""

from __future__ import annotations

import ast
from pathlib import Path

import keepscore

ROOT = Path(keepscore.__file__).parent
MAX_LINES = 600


def modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.relative_to(ROOT).parts)


def test_no_module_is_over_600_lines() -> None:
    over = {
        str(p.relative_to(ROOT)): n
        for p in modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert over == {}
    assert len(modules()) > 250  # the walk found the code


def test_every_module_says_what_it_holds() -> None:
    silent = []
    for path in modules():
        text = path.read_text(encoding="utf-8")
        if text.strip() and not ast.get_docstring(ast.parse(text)):
            silent.append(str(path.relative_to(ROOT)))
    assert silent == []

"""The front-end files the app serves come from their npm packages (package.json), as they
are: the vendored copy is the package's file at the pinned version (`make vendor`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "src" / "keepscore" / "static" / "vendor"


@pytest.mark.parametrize(("package", "files"), [("sortablejs", ("Sortable.min.js", "LICENSE"))])
def test_vendored_files_are_the_pinned_packages(package: str, files: tuple[str, ...]) -> None:
    installed = ROOT / "node_modules" / package
    if not installed.exists():
        pytest.fail(f"{installed} is missing: run `make node-deps` (npm ci)")
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"][package]
    assert json.loads((installed / "package.json").read_text())["version"] == pinned
    for name in files:
        assert (VENDOR / package / name).read_bytes() == (installed / name).read_bytes(), name

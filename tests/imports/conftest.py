"""Helpers for the import tests: files written on the fly, the shared Olist data set."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.exports.conftest import known  # noqa: F401 (an organization with known records)


def olist_dir() -> Path:
    """``shared/datasets/olist-marketing-funnel`` beside the repository (or above it), or
    under ``$KEEPSCORE_SHARED``. Missing data fails the test: a skip would hide it."""
    here = Path(__file__).resolve()
    roots = [Path(os.environ["KEEPSCORE_SHARED"])] if os.environ.get("KEEPSCORE_SHARED") else []
    roots += [parent / "shared" for parent in here.parents]
    for root in roots:
        candidate = root / "datasets" / "olist-marketing-funnel"
        if candidate.is_dir():
            return candidate
    pytest.fail("the shared Olist data set is not beside the repository (set KEEPSCORE_SHARED)")


def write_csv(
    path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", newline="", encoding=encoding) as out:
        csv.writer(out, delimiter=delimiter).writerows(rows)
    return path

"""An import's options read from text: NAME=VALUE pairs, defaults, missing dates, match keys.

What the CLI's options, the API's fields and the web form give is checked here, before the
lead import takes it (and checks it again the same way).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.validation import CLOCK_SKEW
from keepscore.imports.cells import EARLIEST_YEAR, TEXT_LIMITS, local_zone, money_parse, short
from keepscore.imports.dates import date_format_parse, date_reader
from keepscore.imports.headers import LABELS, field_key
from keepscore.leads.models import Stage

#: what a row can match an existing lead (or an earlier row) by, in the order tried
MATCH_KEYS = ("external_id", "email", "phone")
KEY_WORDS = {"external_id": "id", "email": "email", "phone": "phone"}
#: the fields ``--default FIELD=VALUE`` can fill (where a row's value is empty or the column
#: is absent): text fields, the stage, the revenue of won rows and the date of first contact
DEFAULTABLE = (
    "source",
    "lost_reason",
    "owner",
    "sourced_by",
    "company",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "notes",
    "stage",
    "revenue",
    "created",
)
#: ``missing_dates``: a row without a date of first contact is an error, or gets the moment
#: of the import (and a warning)
MISSING_DATES = ("error", "now")
MISSING_DATE = (
    "no date of first contact (created); choose --missing-dates now to use the moment of import"
)
MISSING_DATE_NOW = "no date of first contact (created): the moment of import is used"


def pairs_list_parse(values: list[str], shape: str = "COLUMN=FIELD") -> dict[str, str]:
    """Repeated ``NAME=VALUE`` (``--map``, ``--default``, the API's ``map``…) → a dict;
    ValueError for a value without ``=`` or a name, or a name given twice."""
    out: dict[str, str] = {}
    for value in values:
        name, sep, target = value.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{value!r} is not {shape}")
        if name.strip() in out:
            raise ValueError(f"{name.strip()!r} is given twice")
        out[name.strip()] = target.strip()
    return out


def pairs_parse(text: str | None, option: str) -> dict[str, str]:
    """``'A=x,B=y'`` → ``{"a": "x", "b": "y"}`` (keys in lower case)."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"{option}: {part.strip()!r} is not NAME=VALUE")
        key, value = part.split("=", 1)
        out[key.strip().lower()] = value.strip()
    return out


def defaults_check(defaults: Mapping[str, str] | None, stages: Mapping[str, str]) -> dict[str, str]:
    """``--default`` FIELD → VALUE pairs, FIELD as ``--map`` takes it (a key, a plain label or a
    synonym: ``"Lost reason"``), to field key → value. ``stages``: the ladder's stage key →
    name. Raises ValueError naming the field and what is wrong with it or its value."""
    out: dict[str, str] = {}
    for given, raw in (defaults or {}).items():
        key = field_key(given, stages)
        if key is None or key not in DEFAULTABLE:
            raise ValueError(
                f"--default: {given.strip()!r} is not a field that takes a default (fields: "
                + ", ".join(f"{k} ({LABELS[k]})" for k in DEFAULTABLE)
                + ")"
            )
        value = (raw or "").strip()
        what = f"--default {key} ({LABELS[key]})"
        if not value:
            raise ValueError(f"{what}: the value is empty")
        if "\x00" in value:
            raise ValueError(f"{what}: contains a NUL character")
        limit = TEXT_LIMITS.get(key, 200)
        if len(value) > limit:
            raise ValueError(f"{what}: longer than {limit} characters")
        if key == "revenue":
            parsed = money_parse(value)
            if isinstance(parsed, str):
                raise ValueError(f"{what}: {parsed}")
        elif key == "created":
            at = date_reader(date_format_parse("YYYY-MM-DD"), local_zone())(value)
            if at is None:
                raise ValueError(f"{what}: {short(value)} is not a date in YYYY-MM-DD")
            if at.year < EARLIEST_YEAR or at > timezone.now() + CLOCK_SKEW:
                raise ValueError(
                    f"{what}: {short(value)} is before {EARLIEST_YEAR} or in the future"
                )
        elif key == "stage":
            names = {k.lower() for k in stages} | {n.lower() for n in stages.values()}
            if value.lower() not in names:
                raise ValueError(
                    f"{what}: {short(value)} is not a stage of the ladder "
                    f"(stages: {', '.join(stages)})"
                )
        if key in out:
            raise ValueError(f"{what}: given twice")
        out[key] = value
    return out


def defaults_parse(
    organization: Organization, defaults: Mapping[str, str] | None
) -> dict[str, str]:
    """:func:`defaults_check` with the organization's ladder."""
    ladder = Stage.objects.for_org(organization).order_by("position", "id")
    return defaults_check(defaults, {s.key: s.name for s in ladder})


def missing_dates_check(value: str | None) -> str:
    chosen = (value or "error").strip().lower()
    if chosen not in MISSING_DATES:
        raise ValueError(f"--missing-dates: {value!r} is not one of {', '.join(MISSING_DATES)}")
    return chosen


#: the words ``--match`` (and the API's ``match``) take for MATCH_KEYS
MATCH_WORDS = {
    "id": "external_id",
    "external_id": "external_id",
    "email": "email",
    "phone": "phone",
}


def match_parse(text: str) -> tuple[str, ...]:
    """``"id,email"`` → ("external_id", "email"); ValueError naming a word that is no key."""
    keys: list[str] = []
    for part in text.split(","):
        word = part.strip().lower()
        if not word:
            continue
        key = MATCH_WORDS.get(word)
        if key is None:
            raise ValueError(f"{part.strip()!r} is not id, email or phone")
        if key not in keys:
            keys.append(key)
    if not keys:
        raise ValueError("name at least one of id, email, phone")
    return tuple(keys)

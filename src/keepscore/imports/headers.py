"""Column headers in plain words: what a file's headers mean, and what each field is called.

A file's header is matched to a field by its words, case- and accent-insensitively
(:func:`fold`): ``"E-mail"``, ``"Date added"``, ``"Téléphone"``. The table
:data:`SYNONYMS` lists, per field, the headers people write in English and in the main
languages of small businesses (German, French, Spanish, Portuguese, Dutch, Italian).
:data:`LABELS` names each field in plain words for the app and the reports; ``--map`` takes
either (``--map "Date added=Date of first contact"`` or ``=created``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from keepscore.imports.presets import FIELDS, IGNORE, Preset

#: a column kept as a lead fact: ``fact:NAME``
FACT_PREFIX = "fact:"

#: each field in plain words (the app's choices, the reports, ``--map``)
LABELS: dict[str, str] = {
    "external_id": "Id in the other system",
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "company": "Company",
    "email": "Email",
    "phone": "Phone",
    "notes": "Notes",
    "source": "Source (marketing channel)",
    "campaign": "Campaign",
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "owner": "Owner (salesperson)",
    "sourced_by": "Sourced by",
    "value": "Deal value",
    "created": "Date of first contact",
    "stage": "Stage",
    "revenue": "Revenue (won)",
    "cost": "Cost of the sale",
    "lost_reason": "Lost reason",
    "status": "Status (won or lost)",
    "won_at": "Date won",
    "lost_at": "Date lost",
    "closed_at": "Close date",
}

#: field → the headers that mean it (folded when indexed: case, accents, punctuation aside)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "record id", "external id", "source id", "reference", "ref"),
    "name": ("name", "full name", "contact", "contact name", "lead name", "person", "customer"),
    "first_name": ("first name", "firstname", "given name", "forename"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "company": ("company", "company name", "organization", "organisation", "account", "business"),
    "email": ("email", "e-mail", "mail", "email address", "e-mail address"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell"),
    "notes": ("notes", "note", "comments", "comment", "description", "remarks"),
    "source": ("source", "lead source", "origin", "channel", "marketing channel", "how found"),
    "campaign": ("campaign", "campaign name"),
    "utm_source": ("utm source",),
    "utm_medium": ("utm medium",),
    "utm_campaign": ("utm campaign",),
    "owner": ("owner", "lead owner", "contact owner", "salesperson", "sales rep", "agent"),
    "sourced_by": ("sourced by", "created by", "referred by"),
    "value": ("value", "deal value", "amount", "deal amount", "expected value"),
    "created": (
        "created",
        "date added",
        "create date",
        "created date",
        "created at",
        "creation date",
        "first contact",
        "first contact date",
        "date of first contact",
    ),
    "stage": ("stage", "deal stage", "pipeline stage", "lifecycle stage", "lead status"),
    "revenue": ("revenue", "won revenue", "close value", "sale amount", "sales amount"),
    "cost": ("cost", "cost of sale", "cost of goods"),
    "lost_reason": ("lost reason", "reason lost", "loss reason", "reason"),
    "status": ("status", "deal status", "won lost"),
    "won_at": ("won at", "won date", "date won", "won time"),
    "lost_at": ("lost at", "lost date", "date lost", "lost time"),
    "closed_at": ("close date", "closed", "date closed", "closing date", "closed at"),
}

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """``"  Téléphone / Mobile "`` → ``"telephone mobile"``: lower case, no accents, words
    separated by one space (``_``, ``-``, ``/`` and the like are spaces)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", bare.casefold().replace("ß", "ss")).strip()


def _index() -> dict[str, str]:
    out: dict[str, str] = {}
    for field, words in SYNONYMS.items():
        for word in (field, LABELS[field], *words):
            out.setdefault(fold(word), field)
    return out


_BY_WORDS = _index()


def stage_label(key: str, stages: Mapping[str, str]) -> str:
    return f"Date of entering {stages.get(key, key)}"


def label(target: str, stages: Mapping[str, str] | None = None) -> str:
    """A field (or ``<stage>_at``, ``fact:NAME``, ``-``) in plain words."""
    if target == IGNORE:
        return "ignore"
    if target.startswith(FACT_PREFIX):
        return f"Fact “{target[len(FACT_PREFIX) :]}”"
    if target in LABELS:
        return LABELS[target]
    if target.endswith("_at"):
        return stage_label(target[:-3], stages or {})
    return target


def header_field(header: str, stage_keys: Iterable[str] = ()) -> str | None:
    """The field a file's header means, or None: a synonym, a field's key or plain label, or
    ``<stage>_at`` / "Date of entering <stage>" for a stage of the ladder."""
    words = fold(header)
    if not words:
        return None
    found = _BY_WORDS.get(words)
    if found is not None:
        return found
    for key in stage_keys:
        if words in (fold(f"{key}_at"), fold(f"date of entering {key}")):
            return f"{key}_at"
    return None


def field_key(text: str, stages: Mapping[str, str]) -> str | None:
    """What ``--map`` (or the app) asks a column to go to: a field's key or plain label, a
    synonym, ``<stage>_at`` or "Date of entering <stage name>", ``fact:NAME``, or ``-``.
    ``stages``: the ladder's stage key → name. None when it is none of these."""
    raw = text.strip()
    if raw == IGNORE or fold(raw) == "ignore":
        return IGNORE
    if raw.lower().startswith(FACT_PREFIX):
        name = raw[len(FACT_PREFIX) :].strip()
        return f"{FACT_PREFIX}{name}" if name else None
    if raw.lower() in FIELDS:
        return raw.lower()
    words = fold(raw)
    for key, name in stages.items():
        if words in (fold(f"{key}_at"), fold(stage_label(key, stages)), fold(f"{name} at")):
            return f"{key}_at"
    return _BY_WORDS.get(words)


def columns_guess(
    header: list[str],
    preset: Preset,
    stage_keys: Iterable[str],
    explicit: Mapping[int, str] | None = None,
) -> dict[int, str]:
    """Column index → field for the columns not in ``explicit`` (mapped by hand): the
    preset's own header names first, then the headers' words for the fields still free (a
    field found twice goes to its first column; the others are left to map by hand)."""
    explicit = explicit or {}
    keys = list(stage_keys) if preset.stage_dates else []
    taken = {t for t in explicit.values() if t != IGNORE}
    out: dict[int, str] = {}
    for i, name in enumerate(header):
        if i in explicit or not name:
            continue
        key = name.strip().lower()
        target = preset.columns.get(key)
        if target is None and key.endswith("_at") and key[:-3] in keys:
            target = key
        if target is not None:
            out[i] = target
            taken.add(target)
    for i, name in enumerate(header):
        if i in explicit or i in out or not name:
            continue
        target = header_field(name, keys)
        if target is not None and target not in taken:
            out[i] = target
            taken.add(target)
    return out

"""Headers mapped without help: the synonym table, folding, ``--map`` in plain words, and
imports of German and French spreadsheets with no mapping at all."""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from typer.testing import CliRunner

from keepscore.accounts.models import Organization
from keepscore.cli.main import app
from keepscore.imports import headers
from keepscore.imports.headers import (
    LABELS,
    LANGUAGES,
    SYNONYMS,
    ambiguous,
    columns_guess,
    field_key,
    fold,
    header_field,
    label,
)
from keepscore.imports.presets import FIELDS, IGNORE, PLAIN
from keepscore.imports.services import import_leads
from keepscore.leads.models import DealOutcome, Lead
from tests.imports.conftest import write_csv

ZONE = ZoneInfo(settings.TIME_ZONE)
STAGES = {"suspect": "Suspect", "lead": "Lead", "proposal": "Proposal", "customer": "Customer"}

# --- the table ---------------------------------------------------------------------------


def test_every_field_has_synonyms_in_every_language_and_a_plain_label() -> None:
    assert LANGUAGES == ("en", "de", "fr", "es", "pt", "nl", "it")
    assert list(SYNONYMS) == list(FIELDS)
    assert list(LABELS) == list(FIELDS)
    missing = [(f, lang) for f in FIELDS for lang in LANGUAGES if not SYNONYMS[f].get(lang)]
    assert missing == []
    extra = [(f, lang) for f in FIELDS for lang in SYNONYMS[f] if lang not in LANGUAGES]
    assert extra == []
    # a plain label is words, not a key
    assert all("_" not in text and text[0].isupper() for text in LABELS.values())


def test_no_word_means_two_fields() -> None:
    assert ambiguous() == {}
    # checked independently of the module's own index: every folded word, every field
    seen: dict[str, set[str]] = {}
    for f, languages in SYNONYMS.items():
        for words in languages.values():
            for word in words:
                seen.setdefault(fold(word), set()).add(f)
        seen.setdefault(fold(f), set()).add(f)
        seen.setdefault(fold(LABELS[f]), set()).add(f)
    assert {w: fs for w, fs in seen.items() if len(fs) > 1} == {}
    # and each word of the table leads back to its field
    for f, languages in SYNONYMS.items():
        for words in languages.values():
            for word in words:
                assert header_field(word) == f, (word, f)


def test_fold_case_accents_punctuation_umlauts_sharp_s() -> None:
    assert fold("  Téléphone / Mobile ") == "telephone mobile"
    assert fold("E-MAIL") == fold("e_mail") == fold("E mail") == "e mail"
    assert fold("Straße") == "strasse"
    assert fold("Vollständiger Name") == "vollstandiger name"
    assert fold("Société") == "societe" and fold("Façade") == "facade"
    assert fold("Compañía") == "compania" and fold("Número de teléfono") == "numero de telefono"
    assert fold("Grund für Verlust") == "grund fur verlust"
    assert fold("Chiffre d'affaires") == "chiffre d affaires"
    assert fold("ÉTAPE") == "etape"
    assert fold("—") == ""


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # English (the done-when spreadsheet)
        ("Full name", "name"),
        ("E-mail", "email"),
        ("Phone", "phone"),
        ("Date added", "created"),
        ("Lead source", "source"),
        ("Company", "company"),
        # German
        ("Vollständiger Name", "name"),
        ("E-Mail-Adresse", "email"),
        ("Handy", "phone"),
        ("Erstellt am", "created"),
        ("Herkunft", "source"),
        ("Unternehmen", "company"),
        ("Verlustgrund", "lost_reason"),
        ("Umsatz", "revenue"),
        ("Verantwortlicher", "owner"),
        ("VORNAME", "first_name"),
        ("Nachname", "last_name"),
        ("Grund für Verlust", "lost_reason"),
        ("Verkäufer", "owner"),
        ("Hinzugefügt am", "created"),
        # French
        ("Courriel", "email"),
        ("Téléphone portable", "phone"),
        ("Date de création", "created"),
        ("Provenance", "source"),
        ("Société", "company"),
        ("Raison de la perte", "lost_reason"),
        ("Chiffre d'affaires", "revenue"),
        ("Étape", "stage"),
        ("Propriétaire", "owner"),
        ("Prénom", "first_name"),
        ("Nom de famille", "last_name"),
        ("Coût", "cost"),
        # Spanish
        ("Nombre completo", "name"),
        ("Correo electrónico", "email"),
        ("Teléfono", "phone"),
        ("Móvil", "phone"),
        ("Fecha de creación", "created"),
        ("Origen", "source"),
        ("Compañía", "company"),
        ("Motivo de pérdida", "lost_reason"),
        ("Ingresos", "revenue"),
        ("Etapa", "stage"),
        ("Apellido", "last_name"),
        # Portuguese
        ("Nome completo", "name"),
        ("Telefone", "phone"),
        ("Celular", "phone"),
        ("Data de criação", "created"),
        ("Origem", "source"),
        ("Receita", "revenue"),
        ("Responsável", "owner"),
        ("Sobrenome", "last_name"),
        ("Observações", "notes"),
        # Dutch
        ("Naam", "name"),
        ("Telefoon", "phone"),
        ("Aanmaakdatum", "created"),
        ("Bron", "source"),
        ("Bedrijf", "company"),
        ("Omzet", "revenue"),
        ("Eigenaar", "owner"),
        ("Voornaam", "first_name"),
        ("Achternaam", "last_name"),
        # Italian
        ("Nome", "name"),
        ("Telefono", "phone"),
        ("Data di creazione", "created"),
        ("Fonte", "source"),
        ("Azienda", "company"),
        ("Fatturato", "revenue"),
        ("Commerciale", "owner"),
        ("Cognome", "last_name"),
        ("Fase", "stage"),
        # none of these
        ("Favourite colour", None),
        ("", None),
        ("---", None),
    ],
)
def test_header_field_per_language(header: str, expected: str | None) -> None:
    assert header_field(header) == expected


def test_stage_dates_by_key_or_plain_words() -> None:
    assert header_field("lead_at", ["lead", "proposal"]) == "lead_at"
    assert header_field("Date of entering proposal", ["lead", "proposal"]) == "proposal_at"
    assert header_field("lead_at") is None  # not a stage of this ladder


def test_field_key_takes_keys_labels_synonyms_stage_dates_facts_and_ignore() -> None:
    assert field_key("created", STAGES) == "created"
    assert field_key("Date of first contact", STAGES) == "created"
    assert field_key("date of FIRST contact", STAGES) == "created"
    assert field_key("Date added", STAGES) == "created"
    assert field_key("Erstellt am", STAGES) == "created"
    assert field_key("Revenue (won)", STAGES) == "revenue"
    assert field_key("Owner (salesperson)", STAGES) == "owner"
    assert field_key("proposal_at", STAGES) == "proposal_at"
    assert field_key("Date of entering Proposal", STAGES) == "proposal_at"
    assert field_key("Proposal at", STAGES) == "proposal_at"
    assert field_key("fact:product", STAGES) == "fact:product"
    assert field_key("fact:", STAGES) is None
    assert field_key("-", STAGES) == IGNORE
    assert field_key("ignore", STAGES) == IGNORE
    assert field_key("Favourite colour", STAGES) is None


def test_labels_in_plain_words() -> None:
    assert label("created") == "Date of first contact"
    assert label("proposal_at", STAGES) == "Date of entering Proposal"
    assert label("fact:product") == "Fact “product”"
    assert label(IGNORE) == "ignore"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # a bare "name" next to a first-name column is the last name ...
        (["Name", "Vorname", "E-Mail"], ["last_name", "first_name", "email"]),
        (["Nom", "Prénom", "Courriel"], ["last_name", "first_name", "email"]),
        (["Naam", "Voornaam"], ["last_name", "first_name"]),
        # ... next to a last-name column the first name ...
        (["Nome", "Cognome"], ["first_name", "last_name"]),
        (["Nombre", "Apellido"], ["first_name", "last_name"]),
        (["Nome", "Sobrenome"], ["first_name", "last_name"]),
        # ... and alone (or with both halves) the whole name
        (["Nom", "Téléphone"], ["name", "phone"]),
        (["Name", "Vorname", "Nachname"], ["name", "first_name", "last_name"]),
        # a field found twice goes to its first column only
        (["E-mail", "Courriel"], ["email", None]),
        # the preset's own names come before the words: "id" is the id, "Ref" is free
        (["Ref", "id"], [None, "external_id"]),
    ],
)
def test_columns_guess(header: list[str], expected: list[str | None]) -> None:
    guessed = columns_guess(header, PLAIN, [])
    assert [guessed.get(i) for i in range(len(header))] == expected


def test_columns_guess_leaves_the_hand_mapped_columns_and_their_fields() -> None:
    guessed = columns_guess(["E-mail", "Courriel"], PLAIN, [], explicit={0: IGNORE})
    assert guessed == {1: "email"}
    guessed = columns_guess(["E-mail", "Courriel"], PLAIN, [], explicit={1: "email"})
    assert guessed == {}


def test_module_doc_names_the_languages() -> None:
    doc = headers.__doc__ or ""
    for language in ("German", "French", "Spanish", "Portuguese", "Dutch", "Italian"):
        assert language in doc


# --- imports with no mapping -------------------------------------------------------------


def _read(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def _money(text: str) -> Decimal:
    """``1.234,50`` (German / French) → 1234.50, by hand."""
    return Decimal(text.replace(" ", "").replace(".", "").replace(",", "."))


def _day(text: str) -> datetime:
    day, month, year = (int(p) for p in text.split("."))
    return datetime(year, month, day, tzinfo=ZONE)


GERMAN = [
    ["Vorname", "Name", "E-Mail", "Telefon", "Firma", "Quelle", "Erstellt am", "Phase",
     "Umsatz", "Verlustgrund", "Notizen"],
    ["Jürgen", "Groß", "jurgen@beispiel.de", "+49 30 1234567", "Bäckerei Groß", "Empfehlung",
     "03.02.2024", "Customer", "1.250,50", "", "Stammkunde"],
    ["Änne", "Müller", "anne@beispiel.de", "+49 40 7654321", "", "Messe", "15.01.2024",
     "Lost", "", "Zu teuer", ""],
    ["Stefan", "Weiß", "", "0171 2223334", "Weiß & Söhne", "Empfehlung", "20.03.2024",
     "Proposal", "", "", "Rückruf Freitag"],
]  # fmt: skip


def test_a_german_spreadsheet_imports_with_no_map(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "kunden.csv", GERMAN, delimiter=";")

    result = import_leads(organization=org_a, path=path)

    assert not result.failed, (result.problems, result.errors)
    assert result.columns == {
        "Vorname": "first_name",
        "Name": "last_name",
        "E-Mail": "email",
        "Telefon": "phone",
        "Firma": "company",
        "Quelle": "source",
        "Erstellt am": "created",
        "Phase": "stage",
        "Umsatz": "revenue",
        "Verlustgrund": "lost_reason",
        "Notizen": "notes",
    }
    rows = _read(path, ";")
    assert result.created == len(rows) == Lead.objects.for_org(org_a).count()
    for row in rows:
        lead = Lead.objects.select_related("stage", "channel").get(
            organization=org_a, phone=row["Telefon"]
        )
        assert lead.name == f"{row['Vorname']} {row['Name']}"
        assert lead.email == row["E-Mail"]
        assert lead.company == row["Firma"]
        assert lead.notes == row["Notizen"]
        assert lead.channel.name == row["Quelle"]
        assert lead.first_touch_at == _day(row["Erstellt am"])
        assert lead.stage.name == row["Phase"]
        outcomes = list(DealOutcome.objects.filter(lead=lead))
        if row["Phase"] == "Customer":
            assert [(o.result, o.revenue) for o in outcomes] == [("won", _money(row["Umsatz"]))]
        elif row["Phase"] == "Lost":
            assert [(o.result, o.lost_reason.name) for o in outcomes] == [
                ("lost", row["Verlustgrund"])
            ]
        else:
            assert outcomes == []


FRENCH = [
    ["Nom", "Prénom", "Courriel", "Téléphone", "Société", "Origine", "Date de création",
     "Étape", "Chiffre d'affaires", "Raison de la perte", "Commentaires"],
    ["Lefèvre", "Hélène", "helene@exemple.fr", "01 23 45 67 89", "Boulangerie Lefèvre",
     "Salon", "05/02/2024", "Customer", "980,00", "", "Très contente"],
    ["Garçon", "François", "francois@exemple.fr", "06 11 22 33 44", "", "Bouche-à-oreille",
     "28/01/2024", "Lost", "", "Prix trop élevé", ""],
    ["Dupré", "Noël", "noel@exemple.fr", "07 98 76 54 32", "Café Noël", "Salon", "13/03/2024",
     "Lead", "", "", ""],
]  # fmt: skip


def test_a_french_spreadsheet_imports_with_no_map(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "clients.csv", FRENCH)

    result = import_leads(organization=org_a, path=path)

    assert not result.failed, (result.problems, result.errors)
    assert result.columns["Nom"] == "last_name" and result.columns["Prénom"] == "first_name"
    assert result.columns["Chiffre d'affaires"] == "revenue"
    assert result.columns["Raison de la perte"] == "lost_reason"
    assert result.ignored_columns == []
    rows = _read(path)
    assert result.created == len(rows) == Lead.objects.for_org(org_a).count()
    for row in rows:
        lead = Lead.objects.select_related("stage", "channel").get(
            organization=org_a, email=row["Courriel"]
        )
        assert lead.name == f"{row['Prénom']} {row['Nom']}"
        assert lead.phone == row["Téléphone"] and lead.company == row["Société"]
        assert lead.notes == row["Commentaires"]
        assert lead.channel.name == row["Origine"]
        day, month, year = (int(p) for p in row["Date de création"].split("/"))
        assert lead.first_touch_at == datetime(year, month, day, tzinfo=ZONE)
        assert lead.stage.name == row["Étape"]
        outcomes = list(DealOutcome.objects.filter(lead=lead))
        if row["Étape"] == "Customer":
            revenue = _money(row["Chiffre d'affaires"])
            assert [(o.result, o.revenue) for o in outcomes] == [("won", revenue)]
        elif row["Étape"] == "Lost":
            assert [(o.result, o.lost_reason.name) for o in outcomes] == [
                ("lost", row["Raison de la perte"])
            ]
        else:
            assert outcomes == []


def test_an_error_names_the_file_column_or_the_field_in_plain_words(
    org_a: Organization, tmp_path: Path
) -> None:
    rows = [
        ["Nom complet", "Origine", "Étape"],
        ["Hélène", "Salon", "Customer"],  # won: no revenue column → the field in plain words
        ["", "Salon", "Lead"],  # no name: the file's column
    ]
    path = write_csv(tmp_path / "f.csv", rows)
    result = import_leads(organization=org_a, path=path, missing_dates="now")
    assert result.failed
    assert [(e.line, e.column) for e in result.errors] == [
        (2, "Revenue (won)"),
        (3, "Nom complet"),
    ]
    assert "Revenue (won) or Deal value" in result.errors[0].reason
    assert not Lead.objects.for_org(org_a).exists()


# --- the CLI -----------------------------------------------------------------------------

runner = CliRunner()

DONE_WHEN = [
    ["Full name", "E-mail", "Phone", "Date added", "Lead source", "Company"],
    ["Ada Lovelace", "ada@example.com", "+44 20 7946 0001", "2024-01-05", "Referral", "AE Ltd"],
    ["Grace Hopper", "grace@example.com", "+1 555 0100", "2024-02-11", "Trade fair", ""],
]  # fmt: skip


def test_cli_prints_the_mapping_in_plain_words(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", DONE_WHEN)
    result = runner.invoke(app, ["import", "leads", str(path), "--org", "acme"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for line in (
        "  Full name → Name",
        "  E-mail → Email",
        "  Phone → Phone",
        "  Date added → Date of first contact",
        "  Lead source → Source (marketing channel)",
        "  Company → Company",
    ):
        assert line in out.splitlines(), out
    assert "Imported 2 leads" in out
    rows = _read(path)
    for row in rows:
        lead = Lead.objects.get(organization=org_a, email=row["E-mail"])
        assert (lead.name, lead.phone, lead.company) == (
            row["Full name"],
            row["Phone"],
            row["Company"],
        )
        assert lead.first_touch_at == datetime.fromisoformat(row["Date added"]).replace(tzinfo=ZONE)


def test_cli_map_takes_plain_words(org_a: Organization, tmp_path: Path) -> None:
    rows = [["Who", "Joined", "Found us via"], ["Ada", "2024-01-05", "Referral"]]
    path = write_csv(tmp_path / "people.csv", rows)
    result = runner.invoke(
        app,
        [
            "import", "leads", str(path), "--org", "acme",
            "--map", "Who=Name",
            "--map", "Joined=Date of first contact",
            "--map", "Found us via=Herkunft",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "  Joined → Date of first contact" in result.stdout.splitlines()
    lead = Lead.objects.select_related("channel").get(organization=org_a)
    assert (lead.name, lead.channel.name) == ("Ada", "Referral")
    assert lead.first_touch_at == datetime(2024, 1, 5, tzinfo=ZONE)


def test_cli_done_when_map_date_added(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", DONE_WHEN)
    result = runner.invoke(
        app,
        [
            "import",
            "leads",
            str(path),
            "--org",
            "acme",
            "--map",
            "Date added=Date of first contact",
        ],
    )
    assert result.exit_code == 0, result.output
    assert Lead.objects.for_org(org_a).count() == 2


def test_cli_unknown_word_lists_the_fields_in_plain_words(
    org_a: Organization, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "people.csv", DONE_WHEN)
    result = runner.invoke(
        app, ["import", "leads", str(path), "--org", "acme", "--map", "Date added=Birthday"]
    )
    assert result.exit_code == 1
    err = result.stderr
    assert "'Birthday' is not a field" in err
    for words in ("Date of first contact", "Source (marketing channel)", "Lost reason"):
        assert words in err
    assert "Date of entering Proposal" in err
    assert "utm_source" not in err and "lost_reason" not in err  # no internal keys
    assert not Lead.objects.for_org(org_a).exists()


def test_a_duplicate_names_the_files_column_and_the_field_in_plain_words(
    org_a: Organization, tmp_path: Path
) -> None:
    first = [["Nom complet", "Courriel", "Origine"], ["Hélène", "helene@exemple.fr", "Salon"]]
    path = write_csv(tmp_path / "a.csv", first)
    assert import_leads(organization=org_a, path=path, missing_dates="now").created
    again = [
        ["Nom complet", "Courriel", "Origine"],
        ["Hélène L.", "HELENE@exemple.fr", "Salon"],
    ]
    path = write_csv(tmp_path / "b.csv", again)
    result = import_leads(organization=org_a, path=path, missing_dates="now")
    helene = Lead.objects.for_org(org_a).get()
    assert [(d.line, d.column, d.reason) for d in result.duplicate_rows] == [
        (2, "email", f"same email as lead #{helene.pk} “Hélène”")
    ]


def test_cli_dry_run_shows_the_mapping_and_writes_nothing(
    org_a: Organization, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "kunden.csv", GERMAN, delimiter=";")
    result = runner.invoke(app, ["import", "leads", str(path), "--org", "acme", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Columns (file → field):" in lines
    for line in (
        "  Vorname → First name",
        "  Name → Last name",
        "  Erstellt am → Date of first contact",
        "  Umsatz → Revenue (won)",
        "  Verlustgrund → Lost reason",
    ):
        assert line in lines, result.stdout
    assert "Dry run: 3 leads would be imported" in result.stdout
    assert not Lead.objects.for_org(org_a).exists()

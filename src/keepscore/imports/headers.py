"""Column headers in plain words: what a file's headers mean, and what each field is called.

A file's header is matched to a field by its words, case-, accent- and
punctuation-insensitively (:func:`fold`): ``"E-mail"``, ``"Date added"``, ``"Téléphone"``,
``"Straße"`` = ``"strasse"``. The table :data:`SYNONYMS` lists, per field and language, the
headers people write in English and in the main languages of small businesses (German,
French, Spanish, Portuguese, Dutch, Italian); no word means two fields. A bare "name" (Name,
Nom, Nombre, Nome, Naam) is the whole name, or the half a first-name or last-name column
leaves. :data:`LABELS` names each field in plain words for the app and the reports;
``--map`` takes either (``--map "Date added=Date of first contact"``, ``=Erstellt am``) or the
field's key (``=created``). The preset's own header names come first; the words only map
columns to fields still free.
"""

from __future__ import annotations

import functools
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

#: the languages of :data:`SYNONYMS`: English and the main languages of small businesses
LANGUAGES = ("en", "de", "fr", "es", "pt", "nl", "it")

#: field → language → the headers that mean it (folded when indexed: case, accents and
#: punctuation aside). No header means two fields (``tests/imports/test_headers.py``
#: checks it). A bare "name" (Name, Nom, Nombre, Nome, Naam) is the whole name, unless the
#: file has a first-name column (then it is the last name: German "Name, Vorname", French
#: "Nom, Prénom") or a last-name column (then the first name: Italian "Nome, Cognome",
#: Spanish "Nombre, Apellido", Portuguese "Nome, Sobrenome") — see :func:`columns_guess`.
#: Other words with two readings take the more common one in a leads file: "Client",
#: "Cliente", "Kunde", "Klant" are the person (name), not the company; "Contact" is the name;
#: "Status" / "Statut" / "Estado" / "Stato" is won-or-lost, "Lead status" the stage; a bare
#: "Reason" / "Grund" / "Motivo" / "Raison" / "Reden" is the lost reason; Portuguese
#: "Apelido" is the last name (as in Portugal, not Brazil's nickname).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "external_id": {
        "en": ("id", "record id", "external id", "source id", "reference", "ref", "crm id"),
        "de": ("Kundennummer", "Referenz", "Datensatz-ID", "externe ID", "Kunden-Nr."),
        "fr": ("identifiant", "référence", "ID externe", "numéro client", "n° client"),
        "es": ("identificador", "referencia", "ID externo", "número de cliente"),
        "pt": ("identificador", "referência", "ID externo", "código do cliente"),
        "nl": ("referentie", "klantnummer", "externe ID", "kenmerk"),
        "it": ("identificativo", "riferimento", "ID esterno", "codice cliente"),
    },
    "name": {
        "en": (
            "name",
            "full name",
            "contact",
            "contact name",
            "lead name",
            "person",
            "customer",
            "customer name",
            "client name",
        ),
        "de": (
            "Name",
            "Vollständiger Name",
            "Kontakt",
            "Kontaktname",
            "Ansprechpartner",
            "Kunde",
            "Kundenname",
        ),
        "fr": ("nom", "nom complet", "nom du contact", "client", "nom du client", "personne"),
        "es": (
            "nombre",
            "nombre completo",
            "contacto",
            "nombre del contacto",
            "cliente",
            "nombre del cliente",
            "persona",
        ),
        "pt": ("nome", "nome completo", "contato", "nome do contato", "nome do cliente", "pessoa"),
        "nl": ("naam", "volledige naam", "contactpersoon", "klant", "klantnaam", "persoon"),
        "it": ("nome", "nome completo", "contatto", "nome contatto", "nominativo"),
    },
    "first_name": {
        "en": ("first name", "firstname", "given name", "forename"),
        "de": ("Vorname", "Rufname"),
        "fr": ("prénom",),
        "es": ("nombre de pila", "primer nombre"),
        "pt": ("primeiro nome", "nome próprio"),
        "nl": ("voornaam", "roepnaam"),
        "it": ("nome di battesimo", "primo nome"),
    },
    "last_name": {
        "en": ("last name", "lastname", "surname", "family name"),
        "de": ("Nachname", "Familienname"),
        "fr": ("nom de famille",),
        "es": ("apellido", "apellidos"),
        "pt": ("sobrenome", "apelido", "último nome"),
        "nl": ("achternaam", "familienaam"),
        "it": ("cognome",),
    },
    "company": {
        "en": (
            "company",
            "company name",
            "organization",
            "organisation",
            "account",
            "account name",
            "business",
        ),
        "de": ("Firma", "Unternehmen", "Firmenname", "Organisation", "Betrieb"),
        "fr": ("société", "entreprise", "nom de l'entreprise", "raison sociale"),
        "es": ("empresa", "compañía", "nombre de la empresa", "organización", "razón social"),
        "pt": ("empresa", "companhia", "nome da empresa", "organização", "razão social"),
        "nl": ("bedrijf", "bedrijfsnaam", "organisatie", "onderneming"),
        "it": ("azienda", "società", "ragione sociale", "nome azienda", "impresa", "ditta"),
    },
    "email": {
        "en": ("email", "e-mail", "mail", "email address", "e-mail address"),
        "de": ("E-Mail", "E-Mail-Adresse", "Emailadresse", "Mailadresse"),
        "fr": ("courriel", "adresse e-mail", "adresse électronique", "adresse mail"),
        "es": ("correo electrónico", "correo", "dirección de correo", "dirección de email"),
        "pt": (
            "correio eletrónico",
            "correio eletrônico",
            "endereço de e-mail",
            "endereço de email",
        ),
        "nl": ("e-mailadres", "emailadres", "mailadres"),
        "it": ("posta elettronica", "indirizzo email", "indirizzo e-mail", "indirizzo di posta"),
    },
    "phone": {
        "en": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell"),
        "de": ("Telefon", "Telefonnummer", "Handy", "Mobil", "Mobiltelefon", "Mobilnummer"),
        "fr": ("téléphone", "numéro de téléphone", "portable", "téléphone portable"),
        "es": ("teléfono", "número de teléfono", "móvil", "celular"),
        "pt": ("telefone", "número de telefone", "telemóvel", "celular"),
        "nl": ("telefoon", "telefoonnummer", "mobiel", "mobiel nummer", "gsm"),
        "it": ("telefono", "numero di telefono", "cellulare"),
    },
    "notes": {
        "en": ("notes", "note", "comments", "comment", "description", "remarks"),
        "de": ("Notizen", "Notiz", "Bemerkungen", "Kommentar", "Beschreibung", "Anmerkungen"),
        "fr": ("remarques", "commentaires", "commentaire"),
        "es": ("notas", "nota", "comentarios", "observaciones", "descripción"),
        "pt": ("notas", "observações", "comentários", "descrição"),
        "nl": ("notities", "notitie", "opmerkingen", "beschrijving", "commentaar"),
        "it": ("note", "commenti", "osservazioni", "descrizione", "annotazioni"),
    },
    "source": {
        "en": (
            "source",
            "lead source",
            "origin",
            "channel",
            "marketing channel",
            "how found",
            "acquisition channel",
        ),
        "de": ("Quelle", "Herkunft", "Kanal", "Lead-Quelle", "Marketingkanal", "Akquisekanal"),
        "fr": ("origine", "canal", "source du lead", "provenance", "canal d'acquisition"),
        "es": ("origen", "fuente", "canal", "fuente del lead", "procedencia"),
        "pt": ("origem", "fonte", "canal", "fonte do lead", "proveniência"),
        "nl": ("bron", "herkomst", "kanaal", "leadbron"),
        "it": ("fonte", "origine", "canale", "provenienza", "fonte del lead"),
    },
    "campaign": {
        "en": ("campaign", "campaign name"),
        "de": ("Kampagne", "Kampagnenname"),
        "fr": ("campagne", "nom de la campagne"),
        "es": ("campaña", "nombre de la campaña"),
        "pt": ("campanha", "nome da campanha"),
        "nl": ("campagne", "campagnenaam"),
        "it": ("campagna", "nome campagna"),
    },
    "utm_source": {
        "en": ("utm source",),
        "de": ("UTM-Quelle",),
        "fr": ("source UTM",),
        "es": ("fuente UTM",),
        "pt": ("origem UTM",),
        "nl": ("UTM-bron",),
        "it": ("sorgente UTM",),
    },
    "utm_medium": {
        "en": ("utm medium",),
        "de": ("UTM-Medium",),
        "fr": ("support UTM",),
        "es": ("medio UTM",),
        "pt": ("meio UTM",),
        "nl": ("UTM-medium",),
        "it": ("mezzo UTM",),
    },
    "utm_campaign": {
        "en": ("utm campaign",),
        "de": ("UTM-Kampagne",),
        "fr": ("campagne UTM",),
        "es": ("campaña UTM",),
        "pt": ("campanha UTM",),
        "nl": ("UTM-campagne",),
        "it": ("campagna UTM",),
    },
    "owner": {
        "en": (
            "owner",
            "lead owner",
            "contact owner",
            "account owner",
            "salesperson",
            "sales rep",
            "agent",
            "assigned to",
        ),
        "de": (
            "Inhaber",
            "Verantwortlicher",
            "Betreuer",
            "Vertriebsmitarbeiter",
            "Verkäufer",
            "zugewiesen an",
        ),
        "fr": ("responsable", "propriétaire", "commercial", "vendeur", "attribué à"),
        "es": ("propietario", "responsable", "comercial", "vendedor", "asignado a", "agente"),
        "pt": ("responsável", "proprietário", "vendedor", "comercial", "atribuído a", "agente"),
        "nl": ("eigenaar", "verantwoordelijke", "verkoper", "accountmanager", "toegewezen aan"),
        "it": ("proprietario", "commerciale", "responsabile", "venditore", "assegnato a"),
    },
    "sourced_by": {
        "en": ("sourced by", "created by", "referred by"),
        "de": ("erstellt von", "angelegt von", "vermittelt von"),
        "fr": ("créé par", "apporté par", "recommandé par"),
        "es": ("creado por", "captado por", "referido por"),
        "pt": ("criado por", "captado por", "indicado por"),
        "nl": ("aangemaakt door", "aangebracht door", "doorverwezen door"),
        "it": ("creato da", "segnalato da", "procurato da"),
    },
    "value": {
        "en": ("value", "deal value", "amount", "deal amount", "expected value"),
        "de": ("Wert", "Betrag", "Auftragswert", "Dealwert", "Angebotswert"),
        "fr": ("valeur", "montant", "montant estimé", "valeur de l'affaire"),
        "es": ("valor", "importe", "monto", "valor del negocio", "valor estimado"),
        "pt": ("valor", "montante", "valor do negócio", "valor estimado"),
        "nl": ("waarde", "bedrag", "dealwaarde", "verwachte waarde"),
        "it": ("valore", "importo", "valore trattativa", "valore stimato"),
    },
    "created": {
        "en": (
            "created",
            "date added",
            "added",
            "date created",
            "create date",
            "created date",
            "created at",
            "created on",
            "creation date",
            "first contact",
            "first contact date",
        ),
        "de": (
            "Erstellt am",
            "Erstellungsdatum",
            "Angelegt am",
            "Hinzugefügt am",
            "Erstkontakt",
            "Datum des Erstkontakts",
        ),
        "fr": (
            "date de création",
            "créé le",
            "date d'ajout",
            "ajouté le",
            "premier contact",
            "date du premier contact",
        ),
        "es": (
            "fecha de creación",
            "creado el",
            "fecha de alta",
            "fecha de registro",
            "primer contacto",
            "fecha del primer contacto",
        ),
        "pt": (
            "data de criação",
            "criado em",
            "data de cadastro",
            "data de registo",
            "primeiro contato",
            "data do primeiro contato",
        ),
        "nl": (
            "aanmaakdatum",
            "aangemaakt op",
            "datum toegevoegd",
            "toegevoegd op",
            "eerste contact",
            "datum eerste contact",
        ),
        "it": (
            "data di creazione",
            "creato il",
            "data inserimento",
            "data di registrazione",
            "primo contatto",
            "data primo contatto",
        ),
    },
    "stage": {
        "en": ("stage", "deal stage", "pipeline stage", "lifecycle stage", "lead status"),
        "de": ("Phase", "Stufe", "Verkaufsphase", "Pipeline-Phase", "Stadium"),
        "fr": ("étape", "étape du pipeline", "statut du lead"),
        "es": ("etapa", "fase", "etapa del embudo", "estado del lead"),
        "pt": ("etapa", "fase", "etapa do funil", "estágio"),
        "nl": ("fase", "pipelinefase", "leadstatus"),
        "it": ("fase", "stadio", "fase della trattativa", "stato del lead"),
    },
    "revenue": {
        "en": ("revenue", "won revenue", "close value", "sale amount", "sales amount"),
        "de": ("Umsatz", "Erlös", "Abschlusswert", "Verkaufsbetrag"),
        "fr": ("chiffre d'affaires", "revenu", "montant de la vente", "montant gagné"),
        "es": ("ingresos", "facturación", "importe de la venta", "valor de cierre"),
        "pt": ("receita", "faturamento", "faturação", "valor da venda"),
        "nl": ("omzet", "opbrengst", "verkoopbedrag"),
        "it": ("fatturato", "ricavo", "ricavi", "importo della vendita"),
    },
    "cost": {
        "en": ("cost", "cost of sale", "cost of goods"),
        "de": ("Kosten", "Selbstkosten", "Vertriebskosten"),
        "fr": ("coût", "coût de la vente"),
        "es": ("coste", "costo", "costo de la venta"),
        "pt": ("custo", "custo da venda"),
        "nl": ("kosten", "kostprijs"),
        "it": ("costo", "costo della vendita"),
    },
    "lost_reason": {
        "en": ("lost reason", "reason lost", "loss reason", "reason", "why lost"),
        "de": ("Verlustgrund", "Grund", "Absagegrund", "Grund für Verlust"),
        "fr": ("raison de la perte", "motif de perte", "raison", "motif"),
        "es": ("motivo de pérdida", "razón de pérdida", "motivo", "razón"),
        "pt": ("motivo da perda", "razão da perda", "motivo"),
        "nl": ("reden van verlies", "verliesreden", "reden"),
        "it": ("motivo della perdita", "motivo perdita", "ragione"),
    },
    "status": {
        "en": ("status", "deal status", "won lost", "outcome", "result"),
        "de": ("Ergebnis", "Gewonnen/Verloren", "Abschlussstatus"),
        "fr": ("statut", "résultat", "gagné/perdu"),
        "es": ("estado", "resultado", "ganado/perdido"),
        "pt": ("situação", "resultado", "ganho/perdido"),
        "nl": ("status", "resultaat", "gewonnen/verloren"),
        "it": ("stato", "esito", "risultato", "vinto/perso"),
    },
    "won_at": {
        "en": ("won at", "won date", "date won", "won time", "won on"),
        "de": ("Gewonnen am", "Datum gewonnen"),
        "fr": ("gagné le", "date de gain"),
        "es": ("ganado el", "fecha de ganado"),
        "pt": ("ganho em", "data de ganho"),
        "nl": ("gewonnen op", "datum gewonnen"),
        "it": ("vinto il", "data vinto"),
    },
    "lost_at": {
        "en": ("lost at", "lost date", "date lost", "lost time", "lost on"),
        "de": ("Verloren am", "Datum verloren"),
        "fr": ("perdu le", "date de perte"),
        "es": ("perdido el", "fecha de pérdida"),
        "pt": ("perdido em", "data da perda"),
        "nl": ("verloren op", "datum verloren"),
        "it": ("perso il", "data perso", "data della perdita"),
    },
    "closed_at": {
        "en": ("close date", "closed", "date closed", "closing date", "closed at", "closed on"),
        "de": ("Abschlussdatum", "Geschlossen am", "Datum des Abschlusses"),
        "fr": ("date de clôture", "clôturé le", "date de fermeture"),
        "es": ("fecha de cierre", "cerrado el"),
        "pt": ("data de fechamento", "data de fecho", "fechado em"),
        "nl": ("sluitingsdatum", "afsluitdatum", "gesloten op"),
        "it": ("data di chiusura", "chiuso il"),
    },
}

#: the bare words for "name": the whole name, or a half of it next to the other half
BARE_NAMES = frozenset(("name", "nom", "nombre", "nome", "naam"))


_NOT_WORD = re.compile(r"[^0-9a-z]+")


#: what a Status cell says, in the seven languages (folded as :func:`fold` folds)
STATUS_WORDS = {
    **dict.fromkeys(
        ("won", "closed won", "win", "gewonnen", "gagne", "ganado", "ganho", "vinto"), "won"
    ),
    **dict.fromkeys(
        ("lost", "closed lost", "loss", "verloren", "perdu", "perdido", "perso"), "lost"
    ),
}


@functools.lru_cache(maxsize=4096)
def status_word(cell: str) -> str:
    """``"won"``, ``"lost"`` or ``""`` for a Status cell: ``Won``, ``Closed Won``,
    ``Gewonnen``, ``gagné``, ``Perdido``, … (any case, accents and punctuation)."""
    return STATUS_WORDS.get(fold(cell), "")


def fold(text: str) -> str:
    """``"  Téléphone / Mobile "`` → ``"telephone mobile"``: lower case, no accents, words
    separated by one space (``_``, ``-``, ``/`` and the like are spaces)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", bare.casefold().replace("ß", "ss")).strip()


def _words() -> dict[str, set[str]]:
    """Every folded word of the table (with the fields' keys and plain labels) → its fields."""
    out: dict[str, set[str]] = {}
    for field, languages in SYNONYMS.items():
        for word in (field, LABELS[field], *(w for ws in languages.values() for w in ws)):
            out.setdefault(fold(word), set()).add(field)
    return out


def ambiguous() -> dict[str, set[str]]:
    """The words that would mean two fields (none: the tests check it)."""
    return {word: fields for word, fields in _words().items() if len(fields) > 1}


def _index() -> dict[str, str]:
    return {word: min(fields) for word, fields in _words().items()}


_BY_WORDS = _index()


def fact_name(header: str) -> str:
    """A column kept as a lead fact is named by its header's words: ``"Product line"`` →
    ``product_line`` (at most 40 characters; "" for a header without words)."""
    return fold(header).replace(" ", "_")[:40].strip("_")


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
    found: dict[int, str] = {}
    for i, name in enumerate(header):
        if i in explicit or i in out or not name:
            continue
        target = header_field(name, keys)
        if target is not None:
            found[i] = target
    halves = set(explicit.values()) | set(out.values()) | set(found.values())
    for guessed in (out, found):
        for i, target in guessed.items():
            if target == "name" and fold(header[i]) in BARE_NAMES:
                # "Nom" next to "Prénom" is the last name; "Nome" next to "Cognome" the first
                if "first_name" in halves and "last_name" not in halves:
                    guessed[i] = "last_name"
                elif "last_name" in halves and "first_name" not in halves:
                    guessed[i] = "first_name"
    taken = {t for t in (*explicit.values(), *out.values()) if t != IGNORE}
    for i, target in found.items():
        if target not in taken:
            out[i] = target
            taken.add(target)
    return out

"""The web import's forms: the upload, and the mapping of one uploaded file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat

from keepscore.accounts.models import Membership, Organization
from keepscore.imports.charsets import ENCODINGS
from keepscore.imports.dates import LABELS
from keepscore.imports.headers import FACT_PREFIX, fact_name
from keepscore.imports.mapping import EXTENSIONS, Preview, max_upload, targets
from keepscore.imports.models import ImportJob
from keepscore.imports.presets import IGNORE, PRESETS, preset_get
from keepscore.leads.models import Stage

NEW_MEMBER = ""
#: the keys a row matches a lead by (``import_leads(match=…)``), in plain words
MATCH_CHOICES = [
    ("external_id", "id (from the other system)"),
    ("email", "email"),
    ("phone", "phone"),
]
AS_NAMED = ""
#: the defaults the mapping page offers: form field → engine field
DEFAULT_FIELDS = {
    "default_source": "source",
    "default_lost_reason": "lost_reason",
    "default_owner": "owner",
}
MISSING_DATES_CHOICES = [
    ("error", "Report the row as an error"),
    ("now", "Use the moment of the import (reported as a warning)"),
]


def encoding_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Text encoding",
        required=False,
        choices=[("", "detect (UTF-8 or Windows-1252)")]
        + [(name, f"{label} — {name}") for name, label in ENCODINGS.items()],
        help_text="For a CSV only: choose it when the import says the file is in another encoding.",
    )


#: the presets offered in the app: the exports of the tools people use. The Olist preset
#: (a public data set's, and its closed-deals file) stays on the command line.
APP_PRESETS = [name for name in PRESETS if name != "olist"]


class UploadForm(forms.Form):
    """A leads file and its preset (the app imports leads; deals only came from the Olist
    data set, which ``keepscore import`` still reads)."""

    file = forms.FileField(help_text="CSV (comma, semicolon or tab) or XLSX.")
    preset = forms.ChoiceField(
        label="Exported from",
        choices=[(name, f"{name} — {PRESETS[name].description}") for name in APP_PRESETS],
        initial="plain",
        help_text="A spreadsheet of your own: plain. Its headers are matched by their words "
        "(English, German, French, Spanish, Portuguese, Dutch, Italian).",
    )
    encoding = encoding_field()

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = max_upload()
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the most an upload can be is "
                f"{filesizeformat(limit)}. Split it, or use `keepscore import` on the server."
            )
        if not upload.name.lower().endswith(EXTENSIONS):
            raise forms.ValidationError("Upload a CSV or an XLSX file (.csv, .txt, .tsv, .xlsx).")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class EncodingForm(forms.Form):
    """The encoding to read an uploaded CSV in (the job page's "Read again")."""

    encoding = encoding_field()


class MappingForm(forms.Form):
    """One select per file column, stage value and owner name; the date format; options."""

    date_format = forms.ChoiceField(
        required=False,
        choices=[("", "detect from the whole column")] + [(k, k) for k in LABELS],
        help_text="Needed when the dates could be read two ways (03/04/2018).",
    )
    skip_invalid = forms.BooleanField(
        required=False,
        label="Skip invalid rows",
        help_text="Import the valid rows and leave out the others (default: all or nothing).",
    )
    new_members = forms.BooleanField(
        required=False,
        initial=True,
        label="Create unknown owners as members (without login)",
    )
    default_source = forms.CharField(
        required=False,
        max_length=100,
        label="Source",
        help_text="For the rows without a source (or when the file has no source column).",
    )
    default_lost_reason = forms.CharField(
        required=False,
        max_length=100,
        label="Lost reason",
        help_text="For the lost rows without a reason.",
    )
    default_owner = forms.CharField(
        required=False,
        max_length=200,
        label="Owner",
        help_text="A member's name or email, for the rows without an owner.",
    )
    missing_dates = forms.ChoiceField(
        required=False,  # not sent: "error"
        choices=MISSING_DATES_CHOICES,
        initial="error",
        label="Rows without a date of first contact",
    )
    match = forms.MultipleChoiceField(
        required=False,
        label="A row is a lead already there when it has the same",
        choices=MATCH_CHOICES,
        initial=[key for key, _label in MATCH_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick phone when people share a number (a family business, a switchboard). "
        "None ticked: every row is a new lead.",
    )
    #: the page had the match boxes (a post without them keeps the default: all three keys)
    match_shown = forms.CharField(required=False, initial="1", widget=forms.HiddenInput)
    update = forms.BooleanField(
        required=False,
        label="Update leads that already exist",
        help_text="A row matching a lead fills in or changes its contact details and moves it "
        "forward (never back); without it, such rows are skipped as duplicates.",
    )

    def __init__(
        self,
        *args: Any,
        job: ImportJob,
        preview: Preview,
        organization: Organization,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        self.preview = preview
        self.organization = organization
        saved = job.options or {}
        leads = job.kind == ImportJob.Kind.LEADS
        self.column_fields: list[tuple[str, str]] = []  # (form field, file column)
        self.stage_fields: list[tuple[str, str]] = []
        self.owner_fields: list[tuple[str, str]] = []
        if preview.date_message and not saved.get("date_format"):
            self.fields["date_format"].initial = preview.date_guess
        elif saved.get("date_format") in LABELS:
            self.fields["date_format"].initial = saved["date_format"]
        self.fields["skip_invalid"].initial = bool(saved.get("skip_invalid"))
        if "new_members" in saved:
            self.fields["new_members"].initial = bool(saved["new_members"])
        saved_defaults = saved.get("defaults") or {}
        for name, key in DEFAULT_FIELDS.items():
            self.fields[name].initial = saved_defaults.get(key, "")
        if saved.get("missing_dates") in ("error", "now"):
            self.fields["missing_dates"].initial = saved["missing_dates"]
        if saved.get("match") is not None:
            self.fields["match"].initial = list(saved["match"])
        self.fields["update"].initial = bool(saved.get("update"))
        if not leads:
            for name in (
                "new_members",
                "missing_dates",
                "match",
                "match_shown",
                "update",
                *DEFAULT_FIELDS,
            ):
                del self.fields[name]
            return
        choices = targets(organization)
        saved_map = {k.lower(): v for k, v in (saved.get("mapping") or {}).items()}
        for i, column in enumerate(preview.header):
            if not column:
                continue
            name = f"col_{i}"
            fact = fact_name(column)
            keep = [(f"{FACT_PREFIX}{fact}", f"Keep as a lead fact “{fact}”")] if fact else []
            self.fields[name] = forms.ChoiceField(
                label=column,
                choices=choices + keep,
                initial=saved_map.get(column.lower(), preview.detected.get(i, IGNORE)),
            )
            self.column_fields.append((name, column))
        ladder = list(Stage.objects.for_org(organization).order_by("position", "id"))
        stage_choices = [(AS_NAMED, "— as named —")] + [(s.key, s.name) for s in ladder]
        lookup = {s.key.lower(): s.key for s in ladder} | {s.name.lower(): s.key for s in ladder}
        for name, key in preset_get(job.preset).stage_map.items():
            if key in lookup.values():
                lookup.setdefault(name, key)
        saved_stages = {k.lower(): v for k, v in (saved.get("stage_map") or {}).items()}
        for i, value in enumerate(preview.stage_values):
            name = f"stage_{i}"
            self.fields[name] = forms.ChoiceField(
                label=value,
                choices=stage_choices,
                required=False,
                initial=saved_stages.get(value.lower(), lookup.get(value.lower(), AS_NAMED)),
            )
            self.stage_fields.append((name, value))
        members = Membership.objects.filter(organization=organization).select_related("user")
        member_choices = [(NEW_MEMBER, "— new member / as written —")] + [
            (m.user.email, f"{m.user.get_full_name() or m.user.email} ({m.user.email})")
            for m in members
        ]
        by_name = {m.user.email.lower(): m.user.email for m in members} | {
            m.user.get_full_name().lower(): m.user.email for m in members if m.user.get_full_name()
        }
        saved_owners = {k.lower(): v for k, v in (saved.get("owner_map") or {}).items()}
        for i, value in enumerate(preview.owner_values):
            name = f"owner_{i}"
            self.fields[name] = forms.ChoiceField(
                label=value,
                choices=member_choices,
                required=False,
                initial=saved_owners.get(value.lower(), by_name.get(value.lower(), NEW_MEMBER)),
            )
            self.owner_fields.append((name, value))

    def bound(self, pairs: list[tuple[str, str]]) -> list[tuple[str, forms.BoundField]]:
        return [(label, self[name]) for name, label in pairs]

    def columns(self) -> list[tuple[str, forms.BoundField]]:
        return self.bound(self.column_fields)

    def stages(self) -> list[tuple[str, forms.BoundField]]:
        return self.bound(self.stage_fields)

    def owners(self) -> list[tuple[str, forms.BoundField]]:
        return self.bound(self.owner_fields)

    def defaults(self) -> list[forms.BoundField]:
        return [self[name] for name in DEFAULT_FIELDS if name in self.fields]

    def clean(self) -> dict[str, Any]:
        from keepscore.imports.options import defaults_parse

        data = super().clean() or {}
        for name, key in DEFAULT_FIELDS.items():
            value = (data.get(name) or "").strip()
            if not value:
                continue
            try:
                defaults_parse(self.organization, {key: value})
            except ValueError as error:
                self.add_error(name, str(error).split(": ", 1)[-1])
        return data

    def options(self, *, dry_run: bool) -> dict[str, Any]:
        """The run's options for :func:`keepscore.imports.mapping.job_start`."""
        data = self.cleaned_data
        return {
            "encoding": (self.job.options or {}).get("encoding") or "",
            "dry_run": dry_run,
            "date_format": data.get("date_format") or "",
            "skip_invalid": bool(data.get("skip_invalid")),
            "new_members": bool(data.get("new_members", True)),
            "match": list(data.get("match") or []) if data.get("match_shown") else None,
            "update": bool(data.get("update")),
            "mapping": {column: data[name] for name, column in self.column_fields},
            "stage_map": {v: data[n] for n, v in self.stage_fields if data.get(n)},
            "owner_map": {v: data[n] for n, v in self.owner_fields if data.get(n)},
            "defaults": {
                key: data[name].strip()
                for name, key in DEFAULT_FIELDS.items()
                if (data.get(name) or "").strip()
            },
            "missing_dates": data.get("missing_dates") or "error",
        }

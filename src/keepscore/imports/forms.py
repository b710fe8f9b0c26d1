"""The web import's forms: the upload, and the mapping of one uploaded file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat

from keepscore.accounts.models import Membership, Organization
from keepscore.imports.charsets import ENCODINGS
from keepscore.imports.dates import LABELS
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


def encoding_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Text encoding",
        required=False,
        choices=[("", "detect (UTF-8 or Windows-1252)")]
        + [(name, f"{label} — {name}") for name, label in ENCODINGS.items()],
        help_text="For a CSV only: choose it when the import says the file is in another encoding.",
    )


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV (comma, semicolon or tab) or XLSX.")
    kind = forms.ChoiceField(
        choices=ImportJob.Kind.choices,
        initial=ImportJob.Kind.LEADS,
        help_text="Deals: the Olist closed-deals file marks imported leads won.",
    )
    preset = forms.ChoiceField(
        choices=[(name, f"{name} — {p.description}") for name, p in PRESETS.items()],
        initial="plain",
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

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == ImportJob.Kind.DEALS and data.get("preset") not in (None, "olist"):
            self.add_error("preset", "Deals can be imported with the olist preset only.")
        return data


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
        if saved.get("match") is not None:
            self.fields["match"].initial = list(saved["match"])
        self.fields["update"].initial = bool(saved.get("update"))
        if not leads:
            del self.fields["new_members"]
            del self.fields["match"]
            del self.fields["match_shown"]
            del self.fields["update"]
            return
        choices = targets(organization)
        saved_map = {k.lower(): v for k, v in (saved.get("mapping") or {}).items()}
        for i, column in enumerate(preview.header):
            if not column:
                continue
            name = f"col_{i}"
            self.fields[name] = forms.ChoiceField(
                label=column,
                choices=choices,
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
        }

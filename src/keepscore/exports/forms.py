"""What to export, from the query string."""

from __future__ import annotations

from django import forms

KIND_CHOICES = [
    ("leads", "Leads"),
    ("stage-changes", "Stage changes"),
    ("activities", "Activities"),
    ("outcomes", "Deal outcomes"),
    ("all", "Everything (zip of CSV files)"),
]
FORMAT_CHOICES = [("csv", "CSV"), ("xlsx", "XLSX (Excel)"), ("jsonl", "JSON lines")]


class FormatForm(forms.Form):
    format = forms.ChoiceField(choices=FORMAT_CHOICES)


class ExportForm(FormatForm):
    kind = forms.ChoiceField(label="What", choices=KIND_CHOICES)
    field_order = ["kind", "format"]

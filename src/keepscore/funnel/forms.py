"""The filter forms of the funnel and activity pages: a period from/to, then their own."""

from __future__ import annotations

from typing import Any

from django import forms

from keepscore.common.forms import DateField
from keepscore.common.periods import Period
from keepscore.funnel.filters import PeriodProblem, period_resolve


class PeriodForm(forms.Form):
    """``from`` and ``to`` (each may be left empty: the page's default period's)."""

    from_ = DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="YYYY-MM-DD",
    )
    to = DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: Any, *, default: Period, **kw: Any) -> None:
        super().__init__(data, **kw)
        self.default = default
        self.fields["from_"].widget.attrs.update({"placeholder": default.start.isoformat()})
        self.fields["to"].widget.attrs.update({"placeholder": default.end.isoformat()})

    def add_prefix(self, field_name: str) -> str:
        # "from" is a Python keyword: the field is from_, its parameter "from"
        return "from" if field_name == "from_" else super().add_prefix(field_name)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "from_" not in data or "to" not in data:
            return data  # a date is already refused
        try:
            period_resolve(data["from_"], data["to"], self.default)
        except PeriodProblem as problem:
            self.add_error("from_" if problem.field == "from" else "to", str(problem))
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        return period_resolve(data.get("from_"), data.get("to"), self.default)

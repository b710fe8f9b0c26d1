"""Forms for the lead pages. They parse and validate input; the services apply the rules.

Every choice of a stage, channel, member or lost reason is limited to the organization.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.selectors import members_of
from keepscore.activities.models import ActivityKind, ObjectionTag
from keepscore.common.forms import DateField, DateTimeField
from keepscore.economics.models import Product
from keepscore.economics.products import LineIn
from keepscore.imports.models import ImportJob
from keepscore.leads.models import (
    Channel,
    Lead,
    LostReason,
    QualificationCriterion,
    Stage,
    StageKind,
)
from keepscore.leads.selectors import SOURCE_TEXT, LeadFilters
from keepscore.leads.services import Outcome


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _day(label: str, help_text: str = "") -> DateField:
    """An optional day of the lead list's filters."""
    return DateField(label=label, required=False, widget=_date_input(), help_text=help_text)


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _set_queryset(form: forms.BaseForm, name: str, queryset: QuerySet[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


def _money(**kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, **kwargs
    )


# --- finding leads ---------------------------------------------------------------------


class _ImportChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.file_name} ({obj.started_at:%d %b %Y}, {obj.created:,} leads)"


class LeadFilterForm(forms.Form):
    """The lead list's filters, from the query string. All optional."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, company, email or phone"}
        ),
    )
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.none(), required=False, empty_label="Any stage"
    )
    channel = forms.ModelChoiceField(
        label="Source", queryset=Channel.objects.none(), required=False, empty_label="Any source"
    )
    owner = forms.ModelChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="Anyone"
    )
    sourced_by = forms.ModelChoiceField(
        label="Sourced by",
        queryset=Membership.objects.none(),
        required=False,
        empty_label="Anyone",
        help_text="The member who brought the lead in.",
    )
    campaign = forms.CharField(label="Campaign", required=False, max_length=200)
    utm_source = forms.CharField(label="UTM source", required=False, max_length=200)
    utm_medium = forms.CharField(label="UTM medium", required=False, max_length=200)
    utm_campaign = forms.CharField(label="UTM campaign", required=False, max_length=200)
    created_from = _day("First touch from")
    created_to = _day("First touch to")
    entered = forms.ModelChoiceField(
        label="Entered stage",
        queryset=Stage.objects.none(),
        required=False,
        empty_label="Any",
        help_text="Leads moved into this stage (in the dates beside it).",
    )
    entered_from = _day("Entered on or after")
    entered_to = _day("Entered on or before")
    closed_won_from = _day("Won from", "Leads whose last outcome in these dates is a win.")
    closed_won_to = _day("Won to")
    closed_lost_from = _day("Lost from", "Leads whose last outcome in these dates is a loss.")
    closed_lost_to = _day("Lost to")
    won_from = _day("First won from", "Leads whose first win ever is in these dates.")
    won_to = _day("First won to")
    reached = forms.ModelChoiceField(
        label="Reached stage",
        queryset=Stage.objects.none(),
        required=False,
        empty_label="Any",
        help_text="Leads that first reached this stage (or a later one) in the dates beside it.",
    )
    reached_from = _day("Reached from")
    reached_to = _day("Reached to")
    status = forms.ChoiceField(
        choices=[("", "Open, won or lost"), *StageKind.choices], required=False
    )
    next_step = forms.ChoiceField(
        label="Next step",
        choices=[
            ("", "Any"),
            ("none", "Open, no next step"),
            ("any", "Has a next step"),
            ("overdue", "Next step overdue"),
        ],
        required=False,
    )
    min_days = forms.IntegerField(
        label="Days at stage at least", min_value=0, max_value=36500, required=False
    )
    late = forms.BooleanField(label="At a late stage", required=False)
    imported = _ImportChoice(
        label="Created by the import",
        queryset=ImportJob.objects.none(),
        required=False,
        empty_label="Any",
    )

    #: shown at once; the others under "More filters" (open when one of them is set)
    MAIN = ("q", "stage", "channel", "owner", "next_step")

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.MAIN]

    def more_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.MAIN]

    def more_used(self) -> bool:
        return any(self.data.get(f.name) for f in self.more_fields()) or any(
            f.errors for f in self.more_fields()
        )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(*args, **kwargs)
        _set_queryset(self, "stage", Stage.objects.for_org(organization))
        _set_queryset(self, "entered", Stage.objects.for_org(organization))
        _set_queryset(self, "reached", Stage.objects.for_org(organization))
        # inactive channels too: their old leads can still be found
        _set_queryset(self, "channel", Channel.objects.for_org(organization))
        _set_queryset(self, "owner", members_of(organization=organization))
        _set_queryset(self, "sourced_by", members_of(organization=organization))
        _set_queryset(
            self,
            "imported",
            ImportJob.objects.for_org(organization).filter(
                kind=ImportJob.Kind.LEADS, status=ImportJob.Status.IMPORTED, created__gt=0
            ),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for first, last in (
            ("created_from", "created_to"),
            ("entered_from", "entered_to"),
            ("won_from", "won_to"),
            ("closed_won_from", "closed_won_to"),
            ("closed_lost_from", "closed_lost_to"),
            ("reached_from", "reached_to"),
        ):
            start, end = data.get(first), data.get(last)
            if start and end and start > end:
                self.add_error(last, "This date is before the “from” date.")
        return data

    def filters(self) -> LeadFilters:
        """The valid filters; an invalid one is left out (its error shows on the form)."""
        data = getattr(self, "cleaned_data", {})
        return LeadFilters(
            q=data.get("q") or "",
            stage=data.get("stage"),
            channel=data.get("channel"),
            owner=data.get("owner"),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            entered=data.get("entered"),
            entered_from=data.get("entered_from"),
            entered_to=data.get("entered_to"),
            closed_won_from=data.get("closed_won_from"),
            closed_won_to=data.get("closed_won_to"),
            closed_lost_from=data.get("closed_lost_from"),
            closed_lost_to=data.get("closed_lost_to"),
            sourced_by=data.get("sourced_by"),
            **{name: data.get(name) or "" for name in SOURCE_TEXT},
            won_from=data.get("won_from"),
            won_to=data.get("won_to"),
            reached=data.get("reached"),
            reached_from=data.get("reached_from"),
            reached_to=data.get("reached_to"),
            status=data.get("status") or "",
            next_step=data.get("next_step") or "",
            min_days=data.get("min_days"),
            late=bool(data.get("late")),
            created_in=data["imported"].created_leads() if data.get("imported") else None,
        )


class BoardFilterForm(forms.Form):
    channel = forms.ModelChoiceField(
        label="Source", queryset=Channel.objects.none(), required=False, empty_label="Any source"
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "board_%s")
        super().__init__(*args, **kwargs)
        _set_queryset(self, "channel", Channel.objects.for_org(organization))

    def filters(self) -> LeadFilters:
        return LeadFilters(channel=getattr(self, "cleaned_data", {}).get("channel"))


# --- adding and editing a lead -----------------------------------------------------------


class LeadEditForm(forms.Form):
    """What may change on a lead. Its source is fixed at first touch and is not here."""

    name = forms.CharField(
        max_length=200,
        error_messages={"required": "A lead needs a name."},
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    company = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False, widget=forms.TextInput({"type": "tel"}))
    value = _money(help_text="Expected deal value.")
    owner = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        empty_label="Nobody yet",
        help_text="The member working this lead.",
    )
    sourced_by = forms.ModelChoiceField(
        label="Sourced by",
        queryset=Membership.objects.none(),
        required=False,
        empty_label="Nobody (e.g. a web form)",
        help_text="Who brought the lead in: marketing's credit (the owner is who works it).",
    )
    notes = forms.CharField(required=False, widget=_textarea())

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "owner", members_of(organization=organization))
        _set_queryset(self, "sourced_by", members_of(organization=organization))
        _set_queryset(self, "sourced_by", members_of(organization=organization))


class LeadAddForm(LeadEditForm):
    """A new lead needs only a name and a source; everything else can wait."""

    channel = forms.ModelChoiceField(
        label="Source",
        queryset=Channel.objects.none(),
        empty_label="Where did they come from?",
        error_messages={"required": "Say where this lead came from."},
        help_text="Kept as the original source; it does not change later.",
    )
    campaign = forms.CharField(max_length=200, required=False)

    field_order = ["name", "channel", "company", "email", "phone", "value", "owner", "campaign"]

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, organization=organization, **kwargs)
        _set_queryset(self, "channel", Channel.objects.for_org(organization).filter(active=True))
        # who adds the lead sourced it (the service's default); the edit form can change it
        del self.fields["sourced_by"]


# --- moving a lead -----------------------------------------------------------------------


class StagePickForm(forms.Form):
    """Which stage the move panel previews (``?to_stage=`` on the lead page)."""

    to_stage = forms.ModelChoiceField(queryset=Stage.objects.none(), required=False)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "to_stage", Stage.objects.for_org(organization))

    def stage(self) -> Stage | None:
        return self.cleaned_data.get("to_stage") if self.is_valid() else None


#: how many product lines the move panel offers for a won deal
MOVE_LINES = 3


class IdsField(forms.ModelMultipleChoiceField):
    """Django's, refusing an id no database column can hold (25 nines) as it refuses any
    other unknown id, instead of letting SQLite raise OverflowError (a 500)."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            text = str(pk).strip()
            if not text.isdigit() or int(text) > 2**63 - 1:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)  # type: ignore[misc]


class MoveForm(forms.Form):
    """A move; to a won stage with revenue and cost typed in, or with up to ``MOVE_LINES``
    products sold (``line_<n>_product``, ``_quantity``, ``_unit_price``)."""

    to_stage = forms.ModelChoiceField(
        label="Move to",
        queryset=Stage.objects.none(),
        empty_label="Choose a stage",
        error_messages={"required": "Choose the stage to move to."},
    )
    note = forms.CharField(required=False, widget=_textarea(2))
    revenue = _money(help_text="What the customer pays.")
    cost = _money(help_text="What delivering it costs us, so the margin is known.")
    lost_reason = forms.ModelChoiceField(
        label="Lost reason",
        queryset=LostReason.objects.none(),
        required=False,
        empty_label="Choose a reason",
    )
    lost_note = forms.CharField(label="About the loss", required=False, widget=_textarea(2))
    override_reason = forms.CharField(
        label="Override the checklist because",
        required=False,
        widget=_textarea(2),
        help_text="Owners only: why this lead moves on without every required criterion met. "
        "It is recorded with the stage change.",
    )
    #: the checklist's missing items ticked where the move to a gated stage happens
    criteria = IdsField(queryset=QualificationCriterion.objects.none(), required=False)
    all_met = forms.BooleanField(required=False)

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        lead: Lead,
        preview_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "move_%s")
        super().__init__(*args, **kwargs)
        _set_queryset(
            self, "to_stage", Stage.objects.for_org(organization).exclude(pk=lead.stage_id)
        )
        _set_queryset(
            self, "lost_reason", LostReason.objects.for_org(organization).filter(active=True)
        )
        _set_queryset(
            self,
            "criteria",
            QualificationCriterion.objects.for_org(organization).filter(active=True),
        )
        products = Product.objects.for_org(organization).filter(active=True)
        self.has_products = products.exists()
        for n in range(1, MOVE_LINES + 1):
            self.fields[f"line_{n}_product"] = forms.ModelChoiceField(
                label=f"Product {n}", queryset=products, required=False, empty_label="—"
            )
            self.fields[f"line_{n}_quantity"] = forms.DecimalField(
                label="Quantity",
                max_digits=12,
                decimal_places=2,
                min_value=Decimal("0.01"),
                required=False,
                widget=forms.NumberInput(attrs={"placeholder": "1", "step": "any"}),
                help_text="Empty: 1.",
            )
            self.fields[f"line_{n}_unit_price"] = _money(
                label="Unit price", help_text="Empty: the product's price."
            )
        if preview_url:
            # choosing a stage reloads the panel with that stage's playbook and fields
            self.fields["to_stage"].widget.attrs.update(
                {
                    "hx-get": preview_url,
                    "hx-target": "#move-panel",
                    "hx-swap": "outerHTML",
                    "hx-trigger": "change",
                }
            )

    @property
    def has_line_errors(self) -> bool:
        return any(name.startswith("line_") for name in self.errors)

    def line_rows(self) -> list[list[forms.BoundField]]:
        """The line fields, one row (product, quantity, unit price) per line."""
        return [
            [self[f"line_{n}_{part}"] for part in ("product", "quantity", "unit_price")]
            for n in range(1, MOVE_LINES + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, MOVE_LINES + 1):
            product = data.get(f"line_{n}_product")
            entered = [
                f"line_{n}_{p}"
                for p in ("quantity", "unit_price")
                if data.get(f"line_{n}_{p}") is not None
            ]
            if product is None and entered:
                self.add_error(f"line_{n}_product", "Choose the product of this line.")
        return data

    def lines(self) -> tuple[LineIn, ...]:
        d = self.cleaned_data
        return tuple(
            LineIn(
                product=d[f"line_{n}_product"],
                quantity=d.get(f"line_{n}_quantity") or Decimal(1),
                unit_price=d.get(f"line_{n}_unit_price"),
            )
            for n in range(1, MOVE_LINES + 1)
            if d.get(f"line_{n}_product") is not None
        )

    def outcome(self) -> Outcome:
        d = self.cleaned_data
        return Outcome(
            revenue=d.get("revenue"),
            cost=d.get("cost"),
            lost_reason=d.get("lost_reason"),
            lost_note=d.get("lost_note") or "",
            lines=self.lines(),
        )


class BoardMoveForm(forms.Form):
    to_stage = forms.ModelChoiceField(
        queryset=Stage.objects.none(), error_messages={"required": "Choose the stage to move to."}
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "to_stage", Stage.objects.for_org(organization))


class QualifyForm(forms.Form):
    """One criterion's tick: ``met`` is "1" or "0" (the page sends both; the box wins)."""

    met = forms.TypedChoiceField(
        choices=[("1", "Met"), ("0", "Not met")], coerce=lambda value: value == "1"
    )


# --- activities and objections -------------------------------------------------------------


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=ActivityKind.choices, initial=ActivityKind.CALL_ATTEMPT)
    with_buyer = forms.BooleanField(
        label="With someone who can buy",
        required=False,
        help_text="A connect or meeting with someone who can buy is a sales conversation.",
    )
    outcome = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(required=False, widget=_textarea(2))
    at = DateTimeField(
        label="When",
        required=False,
        help_text="Leave empty for now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "activity_%s")
        super().__init__(*args, **kwargs)


#: the lead page's one-click logs: what was done, as the activity it is
QUICK_LOGS = {
    "reached": (ActivityKind.CONNECT, True, "Call: reached them"),
    "no_answer": (ActivityKind.CALL_ATTEMPT, False, "Call: no answer"),
    "email": (ActivityKind.EMAIL, False, "Email"),
    "meeting": (ActivityKind.MEETING, True, "Meeting"),
    "note": (ActivityKind.NOTE, False, "Note"),
}


class QuickLogForm(forms.Form):
    """One click: a call that reached them (a connect with someone who can buy) or not, an
    email, a meeting, a note; what was said is optional."""

    what = forms.ChoiceField(choices=[(k, v[2]) for k, v in QUICK_LOGS.items()])
    notes = forms.CharField(required=False, max_length=5000)

    def activity(self) -> dict[str, Any]:
        kind, with_buyer, _label = QUICK_LOGS[self.cleaned_data["what"]]
        return {"kind": kind, "with_buyer": with_buyer, "notes": self.cleaned_data["notes"]}


class ObjectionForm(forms.Form):
    tag = forms.ChoiceField(label="Objection", choices=ObjectionTag.choices)
    text = forms.CharField(label="What they said", required=False, widget=_textarea(2))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "objection_%s")
        super().__init__(*args, **kwargs)


class UndoForm(forms.Form):
    """Why a move is undone (optional)."""

    reason = forms.CharField(max_length=500, required=False)

"""Lead pages: the dashboard, the list, the board, a lead's page and its quick actions.

Views stay thin: they parse a form, call a service or a selector, and render. Every lookup
is scoped to the organization in the URL, so another organization's lead is a 404.
``org_view`` goes outermost: the organization is checked before the method, so another
organization's URL is a 404 whatever the method; a member's wrong method is a 405.

Responses: a plain POST that fails validation re-renders its page with status 422; an htmx
POST gets the refreshed fragment with status 200 (htmx swaps only 2xx responses).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from keepscore.accounts.models import Organization
from keepscore.activities import services as activity_services
from keepscore.common.forms import add_service_errors
from keepscore.common.views import INVALID, OrgRequest, org_view, page_of
from keepscore.followups.assignment import owner_set
from keepscore.followups.selectors import attach_next_steps
from keepscore.leads import selectors, services
from keepscore.leads.corrections import stage_change_undo as stage_change_undo_service
from keepscore.leads.corrections import why_not_undoable
from keepscore.leads.forms import (
    QUICK_LOGS,
    ActivityForm,
    BoardFilterForm,
    BoardMoveForm,
    LeadAddForm,
    LeadEditForm,
    LeadFilterForm,
    MoveForm,
    ObjectionForm,
    QualifyForm,
    QuickLogForm,
    StagePickForm,
    UndoForm,
)
from keepscore.leads.links import lead_get, lead_url
from keepscore.leads.models import Lead, QualificationCriterion, Stage, StageChange

LEADS_PER_PAGE = 50


def _redirect(request: OrgRequest, url: str) -> HttpResponse:
    """After a successful POST: a client-side redirect for htmx, a 302 otherwise."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


# --- dashboard ---------------------------------------------------------------------------


@org_view
@require_safe
def dashboard(request: OrgRequest, organization: Organization) -> HttpResponse:
    """How the year is doing against its goals, this month so far, cash, the stages now."""
    from keepscore.funnel.filters import recent_months
    from keepscore.reports.dashboard import dashboard as assemble
    from keepscore.reports.month import funnel_svg

    today = timezone.localdate()
    board = assemble(organization, today)
    quarter = recent_months(today)
    return render(
        request,
        "dashboard.html",
        {
            "nav": "dashboard",
            "board": board,
            "month": board.card.month,
            "newest": attach_next_steps(
                leads=list(selectors.lead_list(organization=organization)[:10])
            ),
            "funnel_quarter": funnel_svg(
                organization,
                quarter,
                f"Leads reaching each stage, {quarter.start:%B} to {board.card.month:%B %Y}",
            ),
        },
    )


# --- the list, adding and editing ----------------------------------------------------------


@org_view
@require_safe
def lead_list(request: OrgRequest, organization: Organization) -> HttpResponse:
    form = LeadFilterForm(request.GET, organization=organization)
    form.is_valid()  # an invalid filter shows its error and is left out
    leads = selectors.lead_list(organization=organization, filters=form.filters())
    page, page_problem = page_of(Paginator(leads, LEADS_PER_PAGE), request.GET.get("page"))
    if page_problem:
        form.add_error(None, page_problem)
    page.object_list = attach_next_steps(leads=list(page.object_list))
    return render(
        request,
        "leads/list.html",
        {"nav": "leads", "form": form, "page_obj": page, "filtered": form.has_changed()},
    )


@org_view
@require_http_methods(["GET", "HEAD", "POST"])
def lead_add(request: OrgRequest, organization: Organization) -> HttpResponse:
    if request.method != "POST":
        form = LeadAddForm(organization=organization, initial={"owner": request.membership})
        return render(request, "leads/form.html", {"nav": "leads", "form": form})
    form = LeadAddForm(request.POST, organization=organization)
    if form.is_valid():
        try:
            with transaction.atomic():
                lead = services.lead_create(
                    organization=organization, by=request.membership, **form.cleaned_data
                )
                owner_set(lead=lead, before=None, by=request.membership)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, f"Lead {lead.name} added.")
            return redirect(lead_url(lead))
    return render(request, "leads/form.html", {"nav": "leads", "form": form}, status=INVALID)


@org_view
@require_http_methods(["GET", "HEAD", "POST"])
def lead_edit(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    lead = lead_get(organization, pk)
    context: dict[str, Any] = {"nav": "leads", "lead": lead}
    if request.method != "POST":
        initial = {name: getattr(lead, name) for name in LeadEditForm.base_fields}
        context["form"] = LeadEditForm(organization=organization, initial=initial)
        return render(request, "leads/form.html", context)
    form = context["form"] = LeadEditForm(request.POST, organization=organization)
    if form.is_valid():
        try:
            with transaction.atomic():
                before = lead.owner_id
                services.lead_update(lead=lead, **form.cleaned_data)
                owner_set(lead=lead, before=before, by=request.membership)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, "Lead saved.")
            return redirect(lead_url(lead))
    return render(request, "leads/form.html", context, status=INVALID)


# --- a lead's page ---------------------------------------------------------------------------


def _move_panel(
    request: OrgRequest, lead: Lead, form: MoveForm | None = None, target: Stage | None = None
) -> dict[str, Any]:
    """The move panel: the form, the target stage's playbook and, when the target is behind
    the qualification gate, what the checklist still misses."""
    if form is None:
        form = MoveForm(
            organization=request.organization,
            lead=lead,
            initial={"to_stage": target},
            preview_url=lead_url(lead),
        )
    return {"lead": lead, "move_form": form, **_gate(lead, target)}


def _gate(
    lead: Lead, target: Stage | None, missing: list[QualificationCriterion] | None = None
) -> dict[str, Any]:
    """Whether moving to ``target`` meets the qualification gate, and what is missing (read
    here unless the caller has ``missing`` already)."""
    gated = target is not None and services.needs_qualification(
        organization=lead.organization, to_stage=target
    )
    if gated and missing is None:
        missing = services.qualification_missing(lead=lead)
    return {"target": target, "gated": gated, "gate_missing": missing if gated else []}


def _qualification(lead: Lead) -> dict[str, Any]:
    return {
        "lead": lead,
        "checklist": selectors.qualification_checklist(lead=lead),
        "missing": services.qualification_missing(lead=lead),
    }


def _actions(lead: Lead, target: Stage | None = None) -> dict[str, Any]:
    """The first screen's actions: the quick logs and the stages to move to."""
    return {
        "quick_others": [(w, QUICK_LOGS[w][2]) for w in ("email", "meeting", "note")],
        "move_stages": list(Stage.objects.for_org(lead.organization).exclude(pk=lead.stage_id)),
        "target": target,
        "objection_form": ObjectionForm(),
    }


def _lead_page(
    request: OrgRequest,
    lead: Lead,
    *,
    status: int = 200,
    move: dict[str, Any] | None = None,
    activity_form: ActivityForm | None = None,
    objection_form: ObjectionForm | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    from keepscore.followups.views import next_steps_context

    move = move or _move_panel(request, lead)
    latest = (
        StageChange.objects.filter(lead=lead)
        .select_related("from_stage", "to_stage")
        .order_by("at", "id")
        .last()
    )
    undoable = latest is not None and not why_not_undoable(latest, request.membership)
    context = {
        "undo_change": latest if undoable else None,
        "nav": "leads",
        "lead": lead,
        "timeline": selectors.lead_timeline(lead=lead),
        "activity_form": activity_form or ActivityForm(),
        **_qualification(lead),
        **next_steps_context(lead),
        **_actions(lead, move.get("target")),
        **move,
        **(extra or {}),
    }
    if objection_form is not None:
        context["objection_form"] = objection_form
    return render(request, "leads/detail.html", context, status=status)


@org_view
def lead_detail(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    lead = lead_get(organization, pk)  # first: another organization's lead is a 404, any method
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    target = StagePickForm(request.GET, organization=organization).stage()
    move = _move_panel(request, lead, target=target)
    if request.htmx and request.htmx.target == "move-panel":
        return render(request, "partials/lead_move_panel.html", move)
    return _lead_page(request, lead, move=move)


@org_view
@require_POST
def lead_move(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    lead = lead_get(organization, pk)
    form = MoveForm(request.POST, organization=organization, lead=lead, preview_url=lead_url(lead))
    target: Stage | None = None
    if form.is_valid():
        target = form.cleaned_data["to_stage"]
        try:
            data = form.cleaned_data
            services.lead_move_ticked(
                lead=lead,
                to_stage=data["to_stage"],
                by=request.membership,
                ticked=data["criteria"],
                all_met=data["all_met"],
                note=data["note"],
                override_reason=data["override_reason"],
                outcome=form.outcome(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, f"{lead.name} moved to {target.name}.")
            return _redirect(request, _next(request, organization) or lead_url(lead))
    else:
        target = form.cleaned_data.get("to_stage")
    move = _move_panel(request, lead, form=form, target=target)
    if request.htmx:
        return render(request, "partials/lead_move_panel.html", move)
    return _lead_page(request, lead, move=move, status=INVALID)


def _next(request: OrgRequest, organization: Organization) -> str | None:
    """Where a move goes back to when it came from the board's dialog (the board only)."""
    url = request.POST.get("next", "")
    board = reverse("lead_board", kwargs={"org": organization.slug})
    return url if url == board or url.startswith(board + "?") else None


@org_view
@require_POST
def stage_change_undo(
    request: OrgRequest, organization: Organization, pk: int, change_pk: int
) -> HttpResponse:
    """Undo the lead's latest move (a mistake): back to the stage it came from."""
    lead = lead_get(organization, pk)
    change = get_object_or_404(StageChange.objects.filter(lead=lead), pk=change_pk)
    form = UndoForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("reason", [])))
        return redirect(lead_url(lead, "timeline"))
    try:
        correction = stage_change_undo_service(
            change=change, by=request.membership, reason=form.cleaned_data["reason"]
        )
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(
            request,
            f"Move undone: {lead.name} is back at {correction.change_from.name}. "
            "The move no longer counts; the timeline keeps both.",
        )
    return redirect(lead_url(lead, "timeline"))


@org_view
@require_POST
def lead_qualify(
    request: OrgRequest, organization: Organization, pk: int, criterion_pk: int
) -> HttpResponse:
    lead = lead_get(organization, pk)
    criterion = get_object_or_404(
        QualificationCriterion.objects.for_org(organization).filter(active=True), pk=criterion_pk
    )
    form = QualifyForm(request.POST)
    if not form.is_valid():  # a tick says what it sets, so a double submit changes nothing
        return HttpResponse("Say whether the criterion is met: met=1 or met=0.", status=INVALID)
    met = form.cleaned_data["met"]
    services.qualification_set(lead=lead, criterion=criterion, met=met, by=request.membership)
    if request.htmx:
        # the checklist's verdict, and the move panel's gate for the stage chosen there (if any)
        target = StagePickForm(request.POST, organization=organization).stage()
        missing = services.qualification_missing(lead=lead)
        context = {"missing": missing, "ticked": criterion, **_gate(lead, target, missing)}
        return render(request, "partials/lead_qualification_status.html", context)
    messages.success(request, f"Checklist saved: {criterion.text} — {'met' if met else 'not met'}.")
    return redirect(lead_url(lead, "qualification"))


def _logged(request: OrgRequest, lead: Lead, notice: str, box: str = "") -> HttpResponse:
    """After a log: the notice, the quick log ``box`` it came from emptied, the timeline
    refreshed and the next steps' add form opened, asking for the next step (htmx); a redirect
    otherwise. Nothing else is swapped: what is being typed elsewhere on the page, and the
    next steps' rows (a Done clicked meanwhile), stay."""
    if not request.htmx:
        messages.success(request, notice)
        return redirect(lead_url(lead, "next-steps"))
    context = {
        "lead": lead,
        "objection_form": ObjectionForm(),  # the objection box, sent back emptied
        "followup_ask": "Next step?",
        "followup_open": True,
        "actions_notice": notice,
        "box": box,
        "label": QUICK_LOGS[box][2] if box in QUICK_LOGS else "",
        "timeline": selectors.lead_timeline(lead=lead),
        "oob_timeline": True,
        "oob_next_steps": True,
    }
    return render(request, "partials/lead_actions_notice.html", context)


def _quick_box(what: str) -> str:
    """The quick log box a kind is logged from: the call's box has both of its outcomes."""
    return "call" if what in ("reached", "no_answer") else what


def _log_failed(
    request: OrgRequest, lead: Lead, form: QuickLogForm, errors: list[str]
) -> HttpResponse:
    """The errors; without htmx, the page again with the quick log open with what was typed
    in it (with htmx, the box is not swapped: what was typed stays there)."""
    if request.htmx:
        return render(request, "partials/lead_actions_notice.html", {"quick_errors": errors})
    kept = {
        "quick_errors": errors,
        # an unknown kind: what was typed goes back in the call's box
        "quick_what": what if (what := form.data.get("what", "")) in QUICK_LOGS else "reached",
        "quick_notes": form.data.get("notes", ""),
    }
    return _lead_page(request, lead, status=INVALID, extra=kept)


@org_view
@require_POST
def lead_quick_log(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    """One click: a call (reached them or not), an email, a meeting or a note, now."""
    lead = lead_get(organization, pk)
    form = QuickLogForm(request.POST)
    today_row = request.POST.get("panel") == "today_lead"
    errors: list[str] = []
    if form.is_valid():
        try:
            activity = activity_services.activity_log(
                lead=lead, by=request.membership, **form.activity()
            )
        except ValidationError as e:
            errors = e.messages
        else:
            notice = f"{activity.get_kind_display()} logged."
            if today_row and request.htmx:
                from keepscore.followups.views import today_lead_row

                return today_lead_row(request, lead, notice)
            return _logged(request, lead, notice, _quick_box(form.cleaned_data["what"]))
    else:
        errors = [f"{name}: {' '.join(str(m) for m in e)}" for name, e in form.errors.items()]
    if today_row and request.htmx:
        from keepscore.followups.views import today_lead_row

        return today_lead_row(request, lead, " ".join(errors), ok=False)
    return _log_failed(request, lead, form, errors)


@org_view
@require_POST
def activity_log(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    """The full activity form (any kind, with its time, outcome and buyer)."""
    lead = lead_get(organization, pk)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            activity = activity_services.activity_log(
                lead=lead, by=request.membership, **form.cleaned_data
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            return _logged(request, lead, f"{activity.get_kind_display()} logged.")
    return _lead_page(request, lead, status=INVALID, activity_form=form)


@org_view
@require_POST
def objection_add(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    lead = lead_get(organization, pk)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            objection = activity_services.objection_add(
                lead=lead, by=request.membership, **form.cleaned_data
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            notice = f"Objection “{objection.get_tag_display()}” logged."
            return _logged(request, lead, notice, "objection")
    if request.htmx:  # the errors only: what was typed stays in the box
        errors = [" ".join(str(m) for m in e) for e in form.errors.values()]
        return render(request, "partials/lead_actions_notice.html", {"quick_errors": errors})
    return _lead_page(request, lead, status=INVALID, objection_form=form)


# --- the board ---------------------------------------------------------------------------------


def _board(organization: Organization, filter_form: BoardFilterForm) -> dict[str, Any]:
    from keepscore.reports.board import board

    filter_form.is_valid()
    the_board = board(organization, filters=filter_form.filters())
    return {
        "nav": "board",
        "filter_form": filter_form,
        "board": the_board,
        "columns": [
            (column, [(lead, the_board.stalled(lead)) for lead in column.leads])
            for column in the_board.columns
        ],
        "channel": filter_form.filters().channel,
        "tomorrow": timezone.localdate() + timedelta(days=1),
    }


def _board_url(organization: Organization, channel: Any) -> str:
    url = reverse("lead_board", kwargs={"org": organization.slug})
    return f"{url}?channel={channel.pk}" if channel is not None else url


@org_view
@require_safe
def lead_board(request: OrgRequest, organization: Organization) -> HttpResponse:
    form = BoardFilterForm(request.GET, organization=organization)
    return render(request, "leads/board.html", _board(organization, form))


@org_view
@require_POST
def lead_board_move(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    """A card dropped on a column (or moved with the keyboard). A move that needs more (the
    revenue of a won deal, a lost reason, the qualification checklist) opens the lead page's
    move form for that stage in a dialog over the board; without htmx, the lead's page."""
    lead = lead_get(organization, pk)
    form = BoardMoveForm(request.POST, organization=organization)
    filter_form = BoardFilterForm(request.POST, organization=organization)  # kept from the board
    filter_form.is_valid()
    back = _board_url(organization, filter_form.filters().channel)
    if not form.is_valid():
        notice, ok = " ".join(str(e) for e in form["to_stage"].errors), False
    else:
        target: Stage = form.cleaned_data["to_stage"]
        try:
            services.lead_move(lead=lead, to_stage=target, by=request.membership)
        except ValidationError as e:
            if not request.htmx:
                messages.warning(
                    request,
                    f"Moving {lead.name} to {target.name} needs more: {' '.join(e.messages)} "
                    "Finish the move here.",
                )
                return redirect(lead_url(lead) + f"?to_stage={target.pk}#move-panel")
            context = {
                **_board(organization, filter_form),
                "dialog": {**_move_panel(request, lead, target=target), "next": back},
            }
            return render(request, "partials/lead_board.html", context)
        notice, ok = f"{lead.name} moved to {target.name}.", True
    if request.htmx:
        context = {**_board(organization, filter_form), "notice": notice, "ok": ok}
        return render(request, "partials/lead_board.html", context)
    (messages.success if ok else messages.error)(request, notice)
    return redirect(back)

"""Settings pages (owners only): the ladder and its playbook, qualification criteria, lost
reasons and channels. Forms parse; the services in ``leads.settings_services`` decide."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from keepscore.accounts.models import Organization
from keepscore.common.forms import add_service_errors
from keepscore.common.views import org_view
from keepscore.leads import settings_services
from keepscore.leads.models import Channel, Lead, LostReason, QualificationCriterion, Stage
from keepscore.leads.settings_forms import (
    ChannelForm,
    CriterionForm,
    LostReasonForm,
    StageForm,
    initial_from,
)

DIRECTIONS = {"up": -1, "down": 1}


def save_with(request: HttpRequest, form: forms.Form, save: Callable[..., Any]) -> Any | None:
    """On a POST whose form parses, call the service with the cleaned data.

    Returns what the service saved, or None with the service's errors put on the form (the
    service is atomic, so a refused save changes nothing).
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return save(**form.cleaned_data)
    except ValidationError as err:
        add_service_errors(form, err)
        return None


def _page(request: HttpRequest, template: str, sub: str, **context: Any) -> HttpResponse:
    return render(request, template, {"nav": "settings", "sub": sub, **context})


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


# --- the ladder and its playbook -------------------------------------------------------


def _ladder(organization: Organization) -> QuerySet[Stage]:
    # GROUP BY queries drop Meta.ordering: order explicitly, or PostgreSQL shuffles the ladder
    return (
        Stage.objects.for_org(organization)
        .annotate(lead_count=Count("leads"))
        .order_by("position", "id")
    )


@org_view
def ladder(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _page(
        request,
        "settings/ladder.html",
        "ladder",
        stages=_ladder(organization),
        form=StageForm(),
    )


@org_view
def stage_add(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = StageForm(_posted(request))
    stage = save_with(
        request, form, partial(settings_services.stage_save, organization=organization)
    )
    if stage is not None:
        messages.success(request, f"Stage “{stage.name}” added at the end of the ladder.")
        return redirect("settings_ladder", org=organization.slug)
    return _page(request, "settings/stage_form.html", "ladder", form=form, stage=None)


@org_view
def stage_edit(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    stage = get_object_or_404(_ladder(organization), pk=pk)
    title = stage.name
    form = StageForm(_posted(request), initial=initial_from(stage, StageForm))
    saved = save_with(
        request, form, partial(settings_services.stage_save, organization=organization, stage=stage)
    )
    if saved is not None:
        messages.success(request, f"Stage “{saved.name}” saved.")
        return redirect("settings_ladder", org=organization.slug)
    return _page(request, "settings/stage_form.html", "ladder", form=form, stage=stage, title=title)


@org_view
@require_POST
def stage_shift(
    request: HttpRequest, organization: Organization, pk: int, direction: str
) -> HttpResponse:
    if direction not in DIRECTIONS:
        raise Http404("Shift a stage up or down")
    stage = get_object_or_404(Stage.objects.for_org(organization), pk=pk)
    settings_services.stage_shift(stage=stage, direction=DIRECTIONS[direction])
    return redirect("settings_ladder", org=organization.slug)


@org_view
@require_POST
def stage_delete(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    stage = get_object_or_404(Stage.objects.for_org(organization), pk=pk)
    name = stage.name
    try:
        settings_services.stage_delete(stage=stage)
    except ValidationError as err:
        why = " ".join(err.messages)
        lead_count = Lead.objects.for_org(organization).filter(stage_id=pk).count()
        if lead_count:
            why += f" Move its {lead_count} lead{'s' if lead_count != 1 else ''} first."
        messages.error(request, f"Stage “{name}” was not deleted. {why}")
    else:
        messages.success(request, f"Stage “{name}” deleted.")
    return redirect("settings_ladder", org=organization.slug)


# --- qualification criteria, lost reasons, channels: a list with an add form, and edit ---


@dataclass(frozen=True)
class Section:
    """One simple settings list: its rows, its form, and the service that saves a row."""

    sub: str
    noun: str
    form_class: type[forms.Form]
    save: Callable[..., Any]
    instance_kw: str
    rows: Callable[[Organization], QuerySet[Any]]
    template: str
    list_url: str
    edit_url: str


CRITERIA = Section(
    sub="qualification",
    noun="qualification criterion",
    form_class=CriterionForm,
    save=settings_services.criterion_save,
    instance_kw="criterion",
    rows=lambda org: QualificationCriterion.objects.for_org(org),
    template="settings/qualification.html",
    list_url="settings_qualification",
    edit_url="settings_criterion_edit",
)
LOST_REASONS = Section(
    sub="lost_reasons",
    noun="lost reason",
    form_class=LostReasonForm,
    save=settings_services.lost_reason_save,
    instance_kw="reason",
    rows=lambda org: (
        LostReason.objects.for_org(org).annotate(used=Count("outcomes")).order_by("name", "id")
    ),
    template="settings/lost_reasons.html",
    list_url="settings_lost_reasons",
    edit_url="settings_lost_reason_edit",
)
CHANNELS = Section(
    sub="channels",
    noun="channel",
    form_class=ChannelForm,
    save=settings_services.channel_save,
    instance_kw="channel",
    rows=lambda org: (
        Channel.objects.for_org(org).annotate(used=Count("leads")).order_by("name", "id")
    ),
    template="settings/channels.html",
    list_url="settings_channels",
    edit_url="settings_channel_edit",
)


def _list_page(request: HttpRequest, organization: Organization, section: Section) -> HttpResponse:
    form = section.form_class(_posted(request))
    saved = save_with(request, form, partial(section.save, organization=organization))
    if saved is not None:
        messages.success(request, f"Added the {section.noun} “{saved}”.")
        return redirect(section.list_url, org=organization.slug)
    return _page(
        request,
        section.template,
        section.sub,
        rows=section.rows(organization),
        form=form,
        section=section,
    )


def _edit_page(
    request: HttpRequest, organization: Organization, section: Section, pk: int
) -> HttpResponse:
    obj = get_object_or_404(section.rows(organization), pk=pk)
    title = str(obj)
    form = section.form_class(_posted(request), initial=initial_from(obj, section.form_class))
    save = partial(section.save, organization=organization, **{section.instance_kw: obj})
    saved = save_with(request, form, save)
    if saved is not None:
        messages.success(request, f"Saved the {section.noun} “{saved}”.")
        return redirect(section.list_url, org=organization.slug)
    return _page(
        request, "settings/edit.html", section.sub, form=form, section=section, title=title
    )


@org_view
def qualification(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _list_page(request, organization, CRITERIA)


@org_view
def criterion_edit(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    return _edit_page(request, organization, CRITERIA, pk)


@org_view
def lost_reasons(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _list_page(request, organization, LOST_REASONS)


@org_view
def lost_reason_edit(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    return _edit_page(request, organization, LOST_REASONS, pk)


@org_view
def channels(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _list_page(request, organization, CHANNELS)


@org_view
def channel_edit(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    return _edit_page(request, organization, CHANNELS, pk)

"""Writes for the ladder and lists: stages, channels, lost reasons, qualification criteria.

The settings pages, the API (channels) and the demo save through these; a stage's save,
shift or delete goes through the history recorder.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils.text import slugify

from keepscore.accounts.models import Organization
from keepscore.common.validation import name_free
from keepscore.history import recorder
from keepscore.leads.models import (
    Channel,
    LostReason,
    QualificationCriterion,
    Stage,
    StageChange,
    StageKind,
)


def _unique_key(model: Any, organization: Organization, name: str, exclude: int | None) -> str:
    base = slugify(name)[:50] or "item"
    key, n = base, 2
    qs = model.objects.for_org(organization)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    while qs.filter(key=key).exists():
        key, n = f"{base}-{n}", n + 1
    return key


@transaction.atomic
def channel_save(
    *, organization: Organization, name: str, active: bool = True, channel: Channel | None = None
) -> Channel:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A channel needs a name."})
    name_free(model=Channel, organization=organization, name=name, what="channel", other=channel)
    if channel is None:
        return channel_create(organization=organization, name=name, active=active)
    channel.name = name
    channel.active = active
    channel.full_clean(exclude=["organization"])
    channel.save()
    return channel


def channel_create(
    *, organization: Organization, name: str, key: str | None = None, active: bool = True
) -> Channel:
    """A new channel, the one way channels are made: from the settings page
    (:func:`channel_save`, which first refuses a name already taken), for a web form's
    submissions, and for the sources an import names. ``key``: as given (a web form's fixed
    key; an import's source slugified, kept unique by the import), else made unique from the
    name. Checked before it is saved (a ``ValidationError`` names the field)."""
    if key and Channel.objects.for_org(organization).filter(key=key).exists():
        raise ValidationError({"key": f"There is already a channel with the key {key}."})
    channel = Channel(
        organization=organization,
        name=name,
        key=key or _unique_key(Channel, organization, name, None),
        active=active,
    )
    channel.full_clean(exclude=["organization"])
    channel.save()
    return channel


@transaction.atomic
def stage_save(
    *,
    organization: Organization,
    name: str,
    group: str,
    kind: str = StageKind.OPEN,
    requires_qualification: bool = False,
    playbook: str = "",
    exit_criteria: str = "",
    stage: Stage | None = None,
) -> Stage:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A stage needs a name."})
    name_free(model=Stage, organization=organization, name=name, what="stage", other=stage)
    if stage is None:
        last = Stage.objects.for_org(organization).aggregate(m=Max("position"))["m"] or 0
        stage = Stage(
            organization=organization,
            key=_unique_key(Stage, organization, name, None),
            position=last + 10,
        )
    elif stage.kind != kind and _stage_in_use(stage):
        raise ValidationError(
            {"kind": "Leads are or were in this stage: its kind (open, won, lost) cannot change."}
        )
    stage.name = name
    stage.group = group
    stage.kind = kind
    stage.requires_qualification = requires_qualification and kind == StageKind.OPEN
    stage.playbook = playbook
    stage.exit_criteria = exit_criteria
    stage.full_clean(exclude=["organization"])
    recorder.stages_save(organization=organization, stages=[stage])
    _ladder_check(organization)
    return stage


def _ladder_check(organization: Organization) -> None:
    stages = list(Stage.objects.for_org(organization))
    if not any(s.kind == StageKind.OPEN for s in stages):
        raise ValidationError("The ladder needs at least one open stage.")
    if not any(s.kind == StageKind.WON for s in stages):
        raise ValidationError({"kind": "The ladder needs a won stage (customer)."})
    if not any(s.kind == StageKind.LOST for s in stages):
        raise ValidationError({"kind": "The ladder needs a lost stage."})


@transaction.atomic
def stage_shift(*, stage: Stage, direction: int) -> None:
    """Swap a stage with its neighbour above (direction -1) or below (+1)."""
    ladder = list(Stage.objects.for_org(stage.organization).select_for_update())
    index = next(i for i, s in enumerate(ladder) if s.pk == stage.pk)
    other = index + (1 if direction > 0 else -1)
    if not 0 <= other < len(ladder):
        return
    ladder[index], ladder[other] = ladder[other], ladder[index]
    moved = []
    for position, s in enumerate(ladder, start=1):
        if s.position != position * 10:
            s.position = position * 10
            moved.append(s)
    recorder.stages_save(organization=stage.organization, stages=moved, fields=["position"])


@transaction.atomic
def _stage_in_use(stage: Stage) -> bool:
    """Leads are at the stage now, or its history names it."""
    return (
        stage.leads.exists()
        or StageChange.objects.filter(Q(to_stage=stage) | Q(from_stage=stage)).exists()
    )


@transaction.atomic
def stage_delete(*, stage: Stage) -> None:
    if _stage_in_use(stage):
        raise ValidationError("This stage has leads or history; it cannot be deleted.")
    organization = stage.organization
    recorder.stage_delete(stage=stage)
    _ladder_check(organization)


@transaction.atomic
def lost_reason_save(
    *, organization: Organization, name: str, active: bool = True, reason: LostReason | None = None
) -> LostReason:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A lost reason needs a name."})
    name_free(
        model=LostReason, organization=organization, name=name, what="lost reason", other=reason
    )
    reason = reason or LostReason(organization=organization)
    reason.name = name
    reason.active = active
    reason.full_clean(exclude=["organization"])
    reason.save()
    return reason


@transaction.atomic
def criterion_save(
    *,
    organization: Organization,
    text: str,
    required: bool = True,
    active: bool = True,
    criterion: QualificationCriterion | None = None,
) -> QualificationCriterion:
    text = text.strip()
    if not text:
        raise ValidationError({"text": "A criterion needs its text."})
    if criterion is None:
        last = (
            QualificationCriterion.objects.for_org(organization).aggregate(m=Max("position"))["m"]
            or 0
        )
        criterion = QualificationCriterion(organization=organization, position=last + 1)
    criterion.text = text
    criterion.required = required
    criterion.active = active
    criterion.full_clean(exclude=["organization"])
    criterion.save()
    return criterion

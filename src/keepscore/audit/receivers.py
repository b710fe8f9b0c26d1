"""Every save of the organization's data through the ORM is recorded (created, or changed
with the field names saved), and every sign-in and failed sign-in. Bulk writes (imports)
send no signals: they record one event with their counts instead. Deletions are recorded by
the services that delete (``services.deleted``): a receiver of every deletion would make
Django load each row of an organization being deleted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save

from keepscore.audit.models import Action
from keepscore.audit.services import record

#: the tables whose writes are recorded: the organization's own data and set-up (not the
#: summaries, which follow the history, and not import jobs, which record their own event)
AUDITED = frozenset(
    {
        "accounts.Organization",
        "accounts.Membership",
        "accounts.ApiToken",
        "leads.Channel",
        "leads.Stage",
        "leads.LostReason",
        "leads.Lead",
        "leads.Touch",
        "leads.StageChange",
        "leads.DealOutcome",
        "leads.StageCorrection",
        "leads.QualificationCriterion",
        "leads.QualificationAnswer",
        "activities.Activity",
        "activities.Objection",
        "followups.FollowUp",
        "webforms.WebForm",
        "webforms.WebFormSubmission",
        "scorecard.ManualMetric",
        "scorecard.ManualValue",
        "scorecard.Target",
        "scorecard.Goal",
        "scorecard.ReviewEntry",
        "economics.Spend",
        "economics.Product",
        "economics.MoneySettings",
        "economics.DealLine",
        "economics.CashPosition",
        "focus.KeptDiagnosis",
    }
)
#: fields never named in a summary (they change on every use)
QUIET_FIELDS = frozenset({"last_used_at", "updated_at"})


def _organization_of(instance: Any) -> Any:
    if instance._meta.label == "accounts.Organization":
        return instance.pk
    return getattr(instance, "organization_id", None)


def saved(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kw: Any) -> None:
    if kw.get("raw"):  # loading fixtures
        return
    summary = ""
    if not created and update_fields:
        names = sorted(set(update_fields) - QUIET_FIELDS)
        if not names:
            return
        summary = "fields: " + ", ".join(names)
    record(
        action=Action.CREATED if created else Action.CHANGED,
        organization=_organization_of(instance),
        object_type=sender._meta.label,
        object_id=instance.pk,
        summary=summary,
    )


def logged_in(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    from keepscore.audit.context import address_of, current, update

    address = address_of(request) if request is not None else ""
    update(user_id=user.pk, address=address)  # the rest of this request is theirs
    actor = replace(current(), user_id=user.pk, address=address)
    for membership in user.memberships.all():
        record(
            action=Action.LOGGED_IN,
            organization=membership.organization_id,
            object_type="accounts.User",
            object_id=user.pk,
            actor=actor,
        )


def login_failed(sender: Any, credentials: Any, request: Any = None, **kw: Any) -> None:
    """Recorded in the log of each organization the account belongs to; an unknown account
    once, without an organization (the CLI reads those)."""
    from django.contrib.auth import get_user_model

    from keepscore.audit.context import Actor, address_of, current

    login = str(credentials.get("username") or credentials.get("email") or "")
    user = get_user_model().objects.filter(email__iexact=login).first() if login else None
    actor = Actor(
        via=current().via,
        user_id=None,
        address=address_of(request) if request is not None else current().address,
    )
    if user is None:
        record(action=Action.LOGIN_FAILED, summary="unknown account", actor=actor)
        return
    for membership in user.memberships.all():
        record(
            action=Action.LOGIN_FAILED,
            organization=membership.organization_id,
            object_type="accounts.User",
            object_id=user.pk,
            summary="wrong password",
            actor=actor,
        )


def locked_out(sender: Any, request: Any = None, username: Any = None, **kw: Any) -> None:
    """django-axes locked an account or an address out of signing in."""
    from django.contrib.auth import get_user_model

    from keepscore.audit.context import Actor, address_of, current

    name = str(username or "").strip()
    user = get_user_model().objects.filter(email__iexact=name).first() if name else None
    address = address_of(request) if request is not None else current().address
    actor = Actor(via=current().via, address=address)
    if user is None:
        record(action=Action.LOCKED_OUT, summary="sign-in from an address", actor=actor)
        return
    for membership in user.memberships.all():
        record(
            action=Action.LOCKED_OUT,
            organization=membership.organization_id,
            object_type="accounts.User",
            object_id=user.pk,
            summary="sign-in",
            actor=actor,
        )


def connect() -> None:
    from django.apps import apps

    for label in AUDITED:
        model = apps.get_model(label)
        post_save.connect(saved, sender=model, dispatch_uid=f"audit-save-{label}")
    user_logged_in.connect(logged_in, dispatch_uid="audit-logged-in")
    user_login_failed.connect(login_failed, dispatch_uid="audit-login-failed")
    from axes.signals import user_locked_out

    user_locked_out.connect(locked_out, dispatch_uid="audit-locked-out")

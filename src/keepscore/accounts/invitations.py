"""Invitations: an owner invites a person by email, with roles; the person joins from a
signed, expiring, single-use link.

The link carries the invitation's id and its current ``key``, signed with the installation's
secret and stamped with the time it was made (Django's ``TimestampSigner``). It is refused
when tampered with, older than ``INVITATION_MAX_AGE``, re-sent since (a new key), revoked or
already used. Accepting makes the membership, and for someone new the user too, in one
transaction; a person may be a member of several organizations.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from keepscore import mail
from keepscore.accounts.models import Invitation, Membership, Organization, User
from keepscore.accounts.services import member_add, user_create, user_set_password
from keepscore.audit import services as audit
from keepscore.audit.models import Action

SALT = "keepscore.accounts.invitation"


class InvitationInvalid(Exception):
    """A link that does not (or no longer) work; ``reason`` says why, in plain words."""

    def __init__(self, reason: str, invitation: Invitation | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


@dataclass(frozen=True)
class Sent:
    """An invitation sent (``resent``: an open one for the address got a new link)."""

    invitation: Invitation
    link: str
    resent: bool


def expires_at(invitation: Invitation) -> datetime:
    return invitation.sent_at + settings.INVITATION_MAX_AGE


def is_expired(invitation: Invitation) -> bool:
    return timezone.now() > expires_at(invitation)


def token_of(invitation: Invitation) -> str:
    """The signed token of the invitation's current link."""
    return signing.dumps({"i": invitation.pk, "k": invitation.key}, salt=SALT)


def link_of(invitation: Invitation) -> str:
    """The absolute link mailed to the invitee."""
    return mail.app_url(reverse("invitation_accept", kwargs={"token": token_of(invitation)}))


def _roles_check(is_owner: bool, is_marketing: bool, is_sales: bool) -> None:
    if not (is_owner or is_marketing or is_sales):
        raise ValidationError({"is_sales": "Choose at least one role: owner, marketing or sales."})


def _mail(invitation: Invitation, link: str) -> None:
    organization = invitation.organization
    by = invitation.invited_by
    inviter = ""
    if by is not None:
        inviter = f"{by.get_full_name()} ({by.email})" if by.get_full_name() else by.email
    mail.send(
        to=invitation.email,
        subject=f"You are invited to {organization.name} on keepscore",
        template="mail/invitation",
        context={
            "organization": organization,
            "inviter": inviter,
            "roles": invitation.roles,
            "link": link,
            "expires_at": expires_at(invitation),
            "days": settings.INVITATION_MAX_AGE.days,
        },
    )


def _new_link(invitation: Invitation) -> None:
    invitation.key = secrets.token_hex(16)
    invitation.sent_at = timezone.now()


def invitation_send(
    *,
    organization: Organization,
    email: str,
    is_owner: bool = False,
    is_marketing: bool = False,
    is_sales: bool = False,
    by: User | None = None,
) -> Sent:
    """Invite ``email`` with the roles, and mail the link. Inviting an address that has an
    open invitation gives that invitation these roles and a new link (the earlier one stops
    working). Refused for someone who is already a member.

    The invitation is saved before the mail goes: if the mail server refuses it,
    :class:`keepscore.mail.MailNotSent` is raised and the invitation stays listed, to be
    re-sent."""
    email = User.objects.normalize_email((email or "").strip())
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from None
    _roles_check(is_owner, is_marketing, is_sales)
    with transaction.atomic():
        member = (
            Membership.objects.filter(organization=organization, user__email__iexact=email)
            .select_related("user")
            .first()
        )
        if member is not None:
            message = f"{member.user.email} is already a member of {organization.name}."
            raise ValidationError({"email": message})
        invitation = (
            Invitation.objects.for_org(organization)
            .select_for_update()
            .filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
            .first()
        )
        resent = invitation is not None
        if invitation is None:
            invitation = Invitation(organization=organization, email=email)
        invitation.is_owner, invitation.is_marketing, invitation.is_sales = (
            is_owner,
            is_marketing,
            is_sales,
        )
        invitation.invited_by = by
        _new_link(invitation)
        invitation.full_clean(exclude=["key"])
        invitation.save()
        audit.record(
            action=Action.INVITED,
            organization=organization,
            object_type="accounts.Invitation",
            object_id=invitation.pk,
            summary=("re-sent" if resent else "sent")
            + f" with roles: {', '.join(invitation.roles)}",
        )
    link = link_of(invitation)
    _mail(invitation, link)
    return Sent(invitation=invitation, link=link, resent=resent)


def invitation_resend(*, invitation: Invitation, by: User | None = None) -> Sent:
    """A new link for an open invitation, mailed; the earlier link stops working."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            state = "accepted" if invitation.accepted_at else "revoked"
            raise ValidationError(f"The invitation of {invitation.email} was {state}.")
        _new_link(invitation)
        if by is not None:
            invitation.invited_by = by
        invitation.save(update_fields=["key", "sent_at", "invited_by"])
        audit.record(
            action=Action.INVITED,
            organization=invitation.organization_id,
            object_type="accounts.Invitation",
            object_id=invitation.pk,
            summary=f"re-sent with roles: {', '.join(invitation.roles)}",
        )
    link = link_of(invitation)
    _mail(invitation, link)
    return Sent(invitation=invitation, link=link, resent=True)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """The invitation's link stops working (an accepted invitation cannot be revoked: remove
    the member instead)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError(
            f"{invitation.email} has accepted already: remove them from the members instead."
        )
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(
            action=Action.INVITATION_REVOKED,
            organization=invitation.organization_id,
            object_type="accounts.Invitation",
            object_id=invitation.pk,
        )
    return invitation


def invitation_from_token(token: str) -> Invitation:
    """The open invitation the link names, or :class:`InvitationInvalid` saying why not."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.SignatureExpired:
        raise InvitationInvalid(
            f"This invitation has expired: links work for {settings.INVITATION_MAX_AGE.days} "
            "days. Ask the person who invited you to send it again."
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise InvitationInvalid(
            "This invitation link is not valid: it may have been cut short or changed. Open "
            "it again from the email, whole."
        ) from None
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=data.get("i") if isinstance(data, dict) else None)
        .first()
    )
    if invitation is None:
        raise InvitationInvalid("This invitation no longer exists.")
    if invitation.accepted_at is not None:
        raise InvitationInvalid(
            "This invitation has been used already. Log in to keepscore to open "
            f"{invitation.organization.name}.",
            invitation,
        )
    if invitation.revoked_at is not None:
        raise InvitationInvalid(
            f"This invitation was withdrawn. Ask an owner of {invitation.organization.name} if "
            "you think it should not have been.",
            invitation,
        )
    if not secrets.compare_digest(str(data.get("k", "")), invitation.key):
        raise InvitationInvalid(
            "This invitation link has been replaced by a newer one: open the latest email "
            "you received.",
            invitation,
        )
    if is_expired(invitation):  # the signature's age is checked above; this is the same rule
        raise InvitationInvalid("This invitation has expired.", invitation)
    return invitation


def invitee(invitation: Invitation) -> User | None:
    """The user the invitation's address belongs to, when there is one."""
    return User.objects.filter(email__iexact=invitation.email).first()


def needs_password(invitation: Invitation) -> bool:
    """Whether accepting means setting a password: someone new, or a user who has none yet
    (a member kept without a login elsewhere). Others sign in first."""
    user = invitee(invitation)
    return user is None or not user.has_usable_password()


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user: User | None = None,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Join the organization with the invitation's roles, once.

    ``user`` is the signed-in user (an existing login, whose email must be the invited
    address); without one, ``password`` makes the login (a new user, or one who had none).
    """
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.is_open or locked.key != invitation.key:
        raise InvitationInvalid("This invitation has been used already.", locked)
    existing = invitee(locked)
    if user is not None:
        if user.email.lower() != locked.email.lower():
            raise ValidationError(
                f"This invitation is for {locked.email}; you are signed in as {user.email}."
            )
        member = user
    elif existing is not None and existing.has_usable_password():
        raise ValidationError(f"{locked.email} has a login already: sign in to accept.")
    elif existing is not None:
        member = user_set_password(user=existing, password=password or "")
        names = {"first_name": first_name.strip(), "last_name": last_name.strip()}
        changed = [k for k, v in names.items() if v]
        for name in changed:
            setattr(member, name, names[name])
        if changed:
            member.save(update_fields=changed)
    else:
        member = user_create(
            email=locked.email,
            password=password,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
        )
    membership = member_add(
        organization=locked.organization,
        user=member,
        is_owner=locked.is_owner,
        is_marketing=locked.is_marketing,
        is_sales=locked.is_sales,
    )
    locked.accepted_at = timezone.now()
    locked.accepted_by = member
    locked.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        action=Action.JOINED,
        organization=locked.organization_id,
        object_type="accounts.Invitation",
        object_id=locked.pk,
        summary=f"as {', '.join(membership.roles)}",
    )
    return membership


def open_invitations(organization: Organization) -> list[Invitation]:
    """The organization's invitations not accepted nor revoked, newest first."""
    return list(
        Invitation.objects.for_org(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
    )

"""Writes for organizations, users and members."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from keepscore.accounts.models import Membership, Organization, User
from keepscore.audit import services as audit
from keepscore.common import money


def password_generate() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    can_login: bool = True,
) -> User:
    """A user who logs in with ``email``; ``can_login=False`` makes one without a password."""
    email = User.objects.normalize_email(email.strip())
    # the username mirrors the email, and is shorter than an email may be
    longest = User._meta.get_field("username").max_length or 0
    if len(email) > longest:
        message = f"Use an email address of at most {longest} characters (it has {len(email)})."
        raise ValidationError({"email": message})
    user = User(email=email, username=email, first_name=first_name, last_name=last_name)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"A user with the email {email} already exists."})
    user.full_clean(exclude=["password", "username"])
    if can_login:
        if not password:
            raise ValidationError({"password": "A password is required."})
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """Set a password that meets the password rules; the user can log in from now on."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


#: what a new organization gets from the apps above this one (the leads app: the default
#: ladder, channels, lost reasons and checklist), each registered by its app when Django
#: starts (``AppConfig.ready``) and run in that order, in the creating transaction
_DEFAULTS: list[Callable[..., None]] = []


def organization_defaults_register(*, make: Callable[..., None]) -> None:
    """Have ``make(organization=...)`` run for every new organization (once per function)."""
    if make not in _DEFAULTS:
        _DEFAULTS.append(make)


@transaction.atomic
def organization_create(*, name: str, slug: str, owner: User | None = None) -> Organization:
    """A new organization with the defaults the apps registered (the default ladder,
    channels, lost reasons and checklist)."""
    organization = Organization(name=name.strip(), slug=slug.strip().lower())
    organization.full_clean()
    organization.save()
    for make in _DEFAULTS:
        make(organization=organization)
    if owner is not None:
        member_add(
            organization=organization, user=owner, is_owner=True, is_marketing=True, is_sales=True
        )
    return organization


@transaction.atomic
def organization_delete(*, organization: Organization) -> None:
    """Delete an organization and every record it owns, in one transaction.

    Stages, channels and lost reasons are RESTRICTed, not CASCADEd, from the rows that use
    them, so they go only together with those rows: here, all at once.
    """
    organization.delete()


@transaction.atomic
def member_add(
    *,
    organization: Organization,
    user: User,
    is_owner: bool = False,
    is_marketing: bool = False,
    is_sales: bool = False,
    marketing_share: int | None = None,
) -> Membership:
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise ValidationError({"email": f"{user.email} is already a member."})
    membership = Membership(
        organization=organization,
        user=user,
        is_owner=is_owner,
        is_marketing=is_marketing,
        is_sales=is_sales,
        marketing_share=marketing_share,
    )
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def member_find_or_add(
    *,
    organization: Organization,
    email: str,
    first_name: str = "",
    last_name: str = "",
    is_marketing: bool = False,
    is_sales: bool = False,
) -> tuple[Membership, bool]:
    """The organization's member with this email, as the imports name people: the user with
    the email (in any case), or a new one who cannot sign in until invited; made a member
    with these roles if they were not one. ``(membership, True)`` when the membership is
    new; an existing one is returned as it is."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = user_create(
            email=email,
            password=None,
            first_name=first_name[:150],
            last_name=last_name[:150],
            can_login=False,
        )
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is not None:
        return membership, False
    membership = member_add(
        organization=organization, user=user, is_marketing=is_marketing, is_sales=is_sales
    )
    return membership, True


def _other_owners_exist(membership: Membership) -> bool:
    """Whether the organization keeps an owner without this member.

    Locks the organization's row first, so two owners demoting each other at once cannot
    both succeed (PostgreSQL; SQLite writes one transaction at a time anyway).
    """
    Organization.objects.select_for_update().filter(pk=membership.organization_id).first()
    return (
        Membership.objects.filter(organization_id=membership.organization_id, is_owner=True)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def member_update(
    *,
    membership: Membership,
    is_owner: bool,
    is_marketing: bool,
    is_sales: bool,
    marketing_share: int | None,
) -> Membership:
    if membership.is_owner and not is_owner and not _other_owners_exist(membership):
        raise ValidationError({"is_owner": "An organization needs at least one owner."})
    membership.is_owner = is_owner
    membership.is_marketing = is_marketing
    membership.is_sales = is_sales
    membership.marketing_share = marketing_share
    membership.full_clean()
    membership.save(update_fields=["is_owner", "is_marketing", "is_sales", "marketing_share"])
    return membership


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    if membership.is_owner and not _other_owners_exist(membership):
        raise ValidationError("An organization needs at least one owner.")
    audit.delete(rows=Membership.objects.filter(pk=membership.pk))


@dataclass(frozen=True)
class MemberCreated:
    """A new member and, when a login was made for a new user, the generated password."""

    membership: Membership
    password: str | None
    user_existed: bool


@transaction.atomic
def member_create(
    *,
    organization: Organization,
    email: str,
    first_name: str = "",
    last_name: str = "",
    can_login: bool = True,
    is_owner: bool = False,
    is_marketing: bool = False,
    is_sales: bool = False,
    marketing_share: int | None = None,
) -> MemberCreated:
    """Add a member by email: an existing user joins as they are; otherwise a new user is
    made, with a generated password (returned once, never stored in clear) or, with
    ``can_login=False``, without one. All or nothing."""
    email = User.objects.normalize_email((email or "").strip())
    user = User.objects.filter(email__iexact=email).first() if email else None
    password: str | None = None
    existed = user is not None
    if user is None:
        password = password_generate() if can_login else None
        user = user_create(
            email=email,
            password=password,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            can_login=can_login,
        )
    membership = member_add(
        organization=organization,
        user=user,
        is_owner=is_owner,
        is_marketing=is_marketing,
        is_sales=is_sales,
        marketing_share=marketing_share,
    )
    return MemberCreated(membership=membership, password=password, user_existed=existed)


# --- money: the organization's currency and number format -------------------------------


@transaction.atomic
def money_format_set(
    *, organization: Organization, currency: str, number_locale: str
) -> Organization:
    """Set the organization's currency (an ISO 4217 code, any case) and how its amounts are
    written (one of ``keepscore.common.money.LOCALES``). A bad one is a ValidationError
    naming its field, and nothing changes. Stored amounts are not converted: the currency
    says what they are in. The audit log records the change (the fields saved)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for field, check, value in (
        ("currency", money.currency_clean, currency),
        ("number_locale", money.locale_clean, number_locale),
    ):
        try:
            clean[field] = check(value)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    organization.currency = clean["currency"]
    organization.number_locale = clean["number_locale"]
    organization.save(update_fields=["currency", "number_locale"])
    return organization


@transaction.atomic
def notices_set(
    *, membership: Membership, lead_assigned: bool | None = None, digest: bool | None = None
) -> Membership:
    """Which notices this member gets by email in this organization (None: unchanged)."""
    fields = []
    if lead_assigned is not None:
        membership.notify_lead_assigned = lead_assigned
        fields.append("notify_lead_assigned")
    if digest is not None:
        membership.notify_digest = digest
        fields.append("notify_digest")
    if fields:
        membership.save(update_fields=fields)
    return membership

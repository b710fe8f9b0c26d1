"""Organizations, users and members (a user's place in an organization, with roles)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower

from keepscore.common.models import OrgOwned
from keepscore.common.money import default_currency, default_locale


class EmailUserManager(UserManager["User"]):
    """Users are known by their email; the username mirrors it."""

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        email = self.normalize_email(email)
        user = self.model(email=email, username=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        """Log in by email in any case: emails are unique regardless of case."""
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person who can log in. Logs in with their email address."""

    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[EmailUserManager] = EmailUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        full = self.get_full_name()
        return full or self.email


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1-50 lower-case letters, digits and dashes, not starting or ending with a dash.",
)


class Organization(models.Model):
    """One business. Every record belongs to exactly one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    created_at = models.DateTimeField(auto_now_add=True)
    #: money: ISO 4217 code and how numbers are written (keepscore.common.money)
    currency = models.CharField(max_length=3, default=default_currency)
    number_locale = models.CharField("number format", max_length=10, default=default_locale)
    #: the membership the API's round-robin assigned a lead to last (an id, not a key: a
    #: member removed since still marks the place in the turn)
    api_round_robin_last = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"


def roles_of(owner: bool, marketing: bool, sales: bool) -> list[str]:
    """The names of the roles held (a membership's, an invitation's), in Role's order."""
    flags = [(owner, Role.OWNER), (marketing, Role.MARKETING), (sales, Role.SALES)]
    return [str(role.value) for on, role in flags if on]


class Membership(models.Model):
    """A member: a user in an organization, with roles and an optional time split."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    is_owner = models.BooleanField("owner", default=False)
    is_marketing = models.BooleanField("marketing", default=False)
    is_sales = models.BooleanField("sales", default=False)
    marketing_share = models.PositiveSmallIntegerField(
        "time on marketing (%)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of this member's time spent on marketing; the rest is sales.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    #: the notices this member gets by email, in this organization (a person in several
    #: organizations chooses for each)
    notify_lead_assigned = models.BooleanField("a new lead is assigned to me", default=True)
    notify_digest = models.BooleanField("the morning digest of follow-ups due today", default=True)

    class Meta:
        ordering = ["user__first_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(marketing_share__isnull=True)
                | models.Q(marketing_share__gte=0, marketing_share__lte=100),
                name="membership_share_0_100",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def roles(self) -> list[str]:
        return roles_of(self.is_owner, self.is_marketing, self.is_sales)

    @property
    def sales_share(self) -> int | None:
        return None if self.marketing_share is None else 100 - self.marketing_share


class ApiToken(OrgOwned):
    """A member's API token. Only its sha256 is stored; the raw token is shown once.

    ``prefix`` (``ks_`` and 8 characters) is the visible part, kept to recognise a token in
    lists and to name it on the command line.
    """

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    hashed = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Invitation(OrgOwned):
    """An owner's invitation of a person, by email, to become a member with roles.

    The link mailed is signed (``keepscore.accounts.invitations``) with ``key``: re-sending
    draws a new key, so the earlier link stops working; it works until ``sent_at`` plus
    ``INVITATION_MAX_AGE`` and once (``accepted_at``), unless revoked first.
    """

    email = models.EmailField("email address")
    is_owner = models.BooleanField("owner", default=False)
    is_marketing = models.BooleanField("marketing", default=False)
    is_sales = models.BooleanField("sales", default=False)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    key = models.CharField(max_length=32)
    sent_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            # one open invitation per address and organization (inviting again re-sends it)
            models.UniqueConstraint(
                Lower("email"),
                models.F("organization"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_open_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def roles(self) -> list[str]:
        return roles_of(self.is_owner, self.is_marketing, self.is_sales)

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

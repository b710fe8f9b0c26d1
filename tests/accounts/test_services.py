from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from keepscore.accounts.models import Organization, User
from keepscore.accounts.services import organization_create, user_create
from keepscore.leads.models import Channel, LostReason, QualificationCriterion, Stage

pytestmark = pytest.mark.django_db


def test_organization_starts_with_the_default_ladder_and_lists():
    org = organization_create(name="Corner Shop", slug="corner-shop")

    ladder = [(s.key, s.group, s.kind) for s in Stage.objects.for_org(org)]
    assert ladder == [
        ("suspect", "SUSPECT", "open"),
        ("prospect", "PROSPECT", "open"),
        ("lead", "LEAD", "open"),
        ("qualified", "LEAD", "open"),
        ("proposal", "LEAD", "open"),
        ("customer", "CUSTOMER", "won"),
        ("lost", "CUSTOMER", "lost"),
    ]
    assert Stage.objects.get(organization=org, key="qualified").requires_qualification
    assert Channel.objects.for_org(org).filter(key="website-form").exists()
    assert LostReason.objects.for_org(org).count() >= 4
    assert QualificationCriterion.objects.for_org(org).filter(required=True).count() >= 3


@pytest.mark.parametrize("slug", ["", "Has Spaces", "-dash", "x" * 51, "ümlaut"])
def test_organization_slug_is_validated(slug):
    with pytest.raises(ValidationError) as err:
        organization_create(name="X", slug=slug)
    assert "slug" in err.value.message_dict
    assert Organization.objects.count() == 0 and Stage.objects.count() == 0


def test_duplicate_slug_is_refused_and_leaves_nothing():
    organization_create(name="A", slug="same")
    with pytest.raises(ValidationError):
        organization_create(name="B", slug="same")
    assert Organization.objects.count() == 1
    assert Stage.objects.count() == 7


def test_user_logs_in_by_email_and_emails_are_unique_whatever_the_case():
    user_create(email="Ann@Example.com", password="long-enough-passphrase-1")
    assert authenticate(email="Ann@example.com", password="long-enough-passphrase-1") is not None
    with pytest.raises(ValidationError) as err:
        user_create(email="ann@example.com", password="another-passphrase-2")
    assert "email" in err.value.message_dict
    assert User.objects.count() == 1


def test_weak_password_and_bad_email_are_refused():
    with pytest.raises(ValidationError):
        user_create(email="x@example.com", password="123")
    with pytest.raises(ValidationError) as err:
        user_create(email="not-an-email", password="long-enough-passphrase-1")
    assert "email" in err.value.message_dict
    assert User.objects.count() == 0


@pytest.mark.parametrize("length", [151, 254])
def test_an_email_longer_than_a_username_is_an_email_error(length):
    """The username mirrors the email and holds 150 characters: a longer (valid) email was
    refused by PostgreSQL (a 500) and stored beyond its limit by SQLite."""
    email = "a" * (length - len("@example.com")) + "@example.com"
    with pytest.raises(ValidationError) as err:
        user_create(email=email, password="long-enough-passphrase-1")
    assert err.value.message_dict["email"] == [
        f"Use an email address of at most 150 characters (it has {length})."
    ]
    assert User.objects.count() == 0
    assert user_create(email=email[length - 150 :], password=None, can_login=False).pk


def test_member_without_login_has_no_usable_password():
    user = user_create(email="rep@example.com", password=None, can_login=False)
    assert not user.has_usable_password()


def test_deleting_an_organization_takes_all_its_records_and_nothing_else(lead_a, owner_a, lead_b):
    from decimal import Decimal

    from keepscore.accounts.services import organization_delete
    from keepscore.activities.models import Activity
    from keepscore.activities.services import activity_log
    from keepscore.leads.models import DealOutcome, Lead, StageChange
    from keepscore.leads.services import Outcome, lead_move

    org = lead_a.organization
    customer = Stage.objects.get(organization=org, key="customer")
    lead_move(lead=lead_a, to_stage=customer, by=owner_a, outcome=Outcome(revenue=Decimal(9)))
    activity_log(lead=lead_a, kind="call_attempt", by=owner_a)
    b_counts = [m.objects.count() for m in (Lead, StageChange, Stage)]

    organization_delete(organization=org)

    assert not Organization.objects.filter(pk=org.pk).exists()
    assert DealOutcome.objects.count() == 0 and Activity.objects.count() == 0
    assert [m.objects.count() for m in (Lead, StageChange, Stage)] == [
        n - k for n, k in zip(b_counts, (1, 2, 7), strict=True)
    ]
    assert User.objects.filter(pk=owner_a.user_id).exists()  # people are not deleted


def test_member_find_or_add_as_the_imports_name_people(org_a, owner_a):
    from keepscore.accounts.models import Membership
    from keepscore.accounts.services import member_find_or_add

    # nobody with the email: a new user who cannot sign in, a member with the roles given
    new, created = member_find_or_add(
        organization=org_a, email="sam@new.invalid", first_name="Sam", is_sales=True
    )
    assert created and new.is_sales and not new.is_marketing and not new.is_owner
    assert (new.user.first_name, new.user.has_usable_password()) == ("Sam", False)
    # the same person, the email in another case: the same membership, unchanged
    again, created = member_find_or_add(
        organization=org_a, email="SAM@new.invalid", is_marketing=True
    )
    assert (again.pk, created, again.is_marketing) == (new.pk, False, False)
    # an existing member (the owner): returned as they are
    owner, created = member_find_or_add(organization=org_a, email=owner_a.user.email.upper())
    assert (owner.pk, created) == (owner_a.pk, False)
    # a user of another organization: made a member here, keeping their account
    other = organization_create(name="Other", slug="other-co")
    there, created = member_find_or_add(organization=other, email="sam@new.invalid")
    assert created and there.user_id == new.user_id
    assert Membership.objects.filter(user=new.user).count() == 2

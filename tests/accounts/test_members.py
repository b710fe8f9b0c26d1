"""Members (owners only): list, add by email, roles and time split, remove; switching
between organizations."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from keepscore.accounts.models import Membership, Organization, User
from keepscore.accounts.services import member_add
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def url(name: str, org: Organization, **kw: Any) -> str:
    return reverse(name, kwargs={"org": org.slug, **kw})


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def roles(m: Membership) -> tuple[bool, bool, bool, int | None]:
    m.refresh_from_db()
    return (m.is_owner, m.is_marketing, m.is_sales, m.marketing_share)


NEW = {
    "email": "New.Person@Acme.test",
    "first_name": "Nina",
    "last_name": "Newman",
    "is_marketing": "on",
    "is_sales": "on",
    "marketing_share": "30",
}


def test_member_list_shows_email_name_roles_and_split(
    client_a: Any, org_a: Any, owner_a: Membership
) -> None:
    seller = member_add(
        organization=org_a,
        user=make_user("sam@acme.test", first_name="Sam", last_name="Seller"),
        is_marketing=True,
        is_sales=True,
        marketing_share=25,
    )

    response = client_a.get(url("member_list", org_a))

    assert response.status_code == 200
    html = response.content.decode()
    assert "owner@acme.test" in html and "sam@acme.test" in html
    assert "Sam Seller" in html
    assert "25% marketing / 75% sales" in html
    row = html[html.index(f'id="member-{seller.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "marketing" in row and "sales" in row and ">owner<" not in row


def test_member_list_query_count_does_not_grow_with_members(
    client_a: Any, org_a: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(8):
        member_add(organization=org_a, user=make_user(f"m{i}@acme.test"), is_sales=True)

    with django_assert_max_num_queries(10):
        response = client_a.get(url("member_list", org_a))

    assert len(response.context["members"]) == 9


def test_add_a_new_member_shows_a_usable_password_once(client_a: Any, org_a: Any) -> None:
    assert client_a.get(url("member_add", org_a)).status_code == 200

    response = client_a.post(url("member_add", org_a), NEW)

    assert response.status_code == 302
    assert response["Location"] == url("member_list", org_a)
    user = User.objects.get(email__iexact="new.person@acme.test")
    assert (user.first_name, user.last_name) == ("Nina", "Newman")
    assert user.has_usable_password()
    m = Membership.objects.get(organization=org_a, user=user)
    assert roles(m) == (False, True, True, 30)

    first = client_a.get(url("member_list", org_a)).content.decode()
    found = re.search(r"Their password is (\S+) — it is shown only this once", first)
    assert found is not None
    password = found.group(1)
    assert user.check_password(password)
    assert password not in client_a.get(url("member_list", org_a)).content.decode()  # once


def test_the_generated_password_logs_in(client: Any, client_a: Any, org_a: Any) -> None:
    response = client_a.post(url("member_add", org_a), NEW)
    text = " ".join(messages_of(response))
    password = text.split("Their password is ")[1].split(" ")[0]
    client_a.logout()

    assert client.login(username="new.person@acme.test", password=password)


def test_add_a_member_without_a_login(client_a: Any, org_a: Any) -> None:
    response = client_a.post(
        url("member_add", org_a), {"email": "walkin@acme.test", "no_login": "on", "is_sales": "on"}
    )

    assert response.status_code == 302
    user = User.objects.get(email="walkin@acme.test")
    assert not user.has_usable_password()
    assert Membership.objects.filter(organization=org_a, user=user, is_sales=True).exists()
    assert not any("password" in m for m in messages_of(response))
    assert "no login" in client_a.get(url("member_list", org_a)).content.decode()


def test_add_an_existing_user_keeps_their_login(
    client_a: Any, org_a: Any, owner_b: Membership
) -> None:
    response = client_a.post(
        url("member_add", org_a),
        {"email": "OWNER@bravo.test", "first_name": "Ignored", "is_marketing": "on"},
    )

    assert response.status_code == 302
    user = owner_b.user
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert user.first_name == ""
    assert Membership.objects.filter(organization=org_a, user=user, is_marketing=True).exists()
    assert User.objects.filter(email__iexact="owner@bravo.test").count() == 1
    assert any("already had a login" in m for m in messages_of(response))


def test_adding_someone_who_is_already_a_member_is_a_field_error(
    client_a: Any, org_a: Any, sales_a: Membership
) -> None:
    response = client_a.post(url("member_add", org_a), {"email": "sales@acme.test"})

    assert response.status_code == 200
    assert "already a member" in " ".join(response.context["form"].errors["email"])
    assert Membership.objects.filter(organization=org_a).count() == 2


@pytest.mark.parametrize(
    ("post", "field"),
    [
        ({**NEW, "marketing_share": "150"}, "marketing_share"),
        ({**NEW, "marketing_share": "-5"}, "marketing_share"),
        ({**NEW, "marketing_share": "lots"}, "marketing_share"),
        ({**NEW, "email": "not-an-email"}, "email"),
        ({**NEW, "email": ""}, "email"),
        ({**NEW, "email": "a" * 200 + "@example.com"}, "email"),  # was a 500 on PostgreSQL
        ({**NEW, "email": "new\x00@example.com"}, "email"),
        ({**NEW, "first_name": "\x00"}, "first_name"),
        ({**NEW, "marketing_share": "1e309"}, "marketing_share"),
        ({**NEW, "marketing_share": "9" * 30}, "marketing_share"),
    ],
)
def test_add_member_says_what_is_wrong_and_creates_nothing(
    client_a: Any, org_a: Any, post: dict[str, str], field: str
) -> None:
    users, members = User.objects.count(), Membership.objects.count()

    response = client_a.post(url("member_add", org_a), post)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert (User.objects.count(), Membership.objects.count()) == (users, members)


def test_edit_roles_and_time_split(client_a: Any, org_a: Any, sales_a: Membership) -> None:
    page = client_a.get(url("member_edit", org_a, pk=sales_a.pk))
    assert page.status_code == 200
    assert page.context["form"].initial["is_sales"] is True

    response = client_a.post(
        url("member_edit", org_a, pk=sales_a.pk),
        {"is_marketing": "on", "is_sales": "on", "marketing_share": "60"},
    )

    assert response.status_code == 302
    assert roles(sales_a) == (False, True, True, 60)
    assert "60% marketing / 40% sales" in client_a.get(url("member_list", org_a)).content.decode()


def test_a_share_of_150_is_a_field_error_and_nothing_is_saved(
    client_a: Any, org_a: Any, sales_a: Membership
) -> None:
    response = client_a.post(
        url("member_edit", org_a, pk=sales_a.pk),
        {"is_owner": "on", "is_marketing": "on", "marketing_share": "150"},
    )

    assert response.status_code == 200
    assert "100" in " ".join(response.context["form"].errors["marketing_share"])
    assert roles(sales_a) == (False, False, True, None)


def test_the_last_owner_cannot_be_demoted(client_a: Any, org_a: Any, owner_a: Membership) -> None:
    response = client_a.post(url("member_edit", org_a, pk=owner_a.pk), {"is_sales": "on"})

    assert response.status_code == 200
    assert "at least one owner" in " ".join(response.context["form"].errors["is_owner"])
    assert roles(owner_a) == (True, True, True, None)


def test_an_owner_who_demotes_themselves_leaves_the_members_page(
    client_a: Any, org_a: Any, owner_a: Membership
) -> None:
    member_add(organization=org_a, user=make_user("second@acme.test"), is_owner=True)

    response = client_a.post(url("member_edit", org_a, pk=owner_a.pk), {"is_sales": "on"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert roles(owner_a) == (False, False, True, None)
    assert client_a.get(url("member_list", org_a)).status_code == 403


def test_remove_a_member(client_a: Any, org_a: Any, sales_a: Membership) -> None:
    response = client_a.post(url("member_remove", org_a, pk=sales_a.pk))

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=sales_a.pk).exists()
    assert User.objects.filter(pk=sales_a.user_id).exists()  # the user stays; may be elsewhere
    assert any("Removed" in m for m in messages_of(response))


def test_the_last_owner_cannot_be_removed(client_a: Any, org_a: Any, owner_a: Membership) -> None:
    response = client_a.post(url("member_remove", org_a, pk=owner_a.pk), follow=True)

    assert Membership.objects.filter(pk=owner_a.pk).exists()
    assert "was not removed. An organization needs at least one owner." in (
        response.content.decode()
    )


def test_remove_refuses_get(client_a: Any, org_a: Any, sales_a: Membership) -> None:
    response = client_a.get(url("member_remove", org_a, pk=sales_a.pk))

    assert response.status_code == 405
    assert Membership.objects.filter(pk=sales_a.pk).exists()


# --- who may see what ------------------------------------------------------------------------


def _pages(org: Organization, member: Membership) -> list[tuple[str, str]]:
    return [
        ("get", url("member_list", org)),
        ("get", url("member_add", org)),
        ("post", url("member_add", org)),
        ("get", url("member_edit", org, pk=member.pk)),
        ("post", url("member_edit", org, pk=member.pk)),
        ("post", url("member_remove", org, pk=member.pk)),
    ]


POST_DATA = {"email": "intruder@evil.test", "is_owner": "on", "marketing_share": "10"}


def _snapshot() -> list[Any]:
    return list(
        Membership.objects.order_by("pk").values_list(
            "pk", "is_owner", "is_marketing", "is_sales", "marketing_share"
        )
    )


def test_a_member_who_is_not_an_owner_is_refused(
    client: Any, org_a: Any, owner_a: Membership, sales_a: Membership
) -> None:
    client.force_login(sales_a.user)
    before = _snapshot()

    for method, page in _pages(org_a, owner_a):
        response = getattr(client, method)(page, POST_DATA)
        assert response.status_code == 403, (method, page)

    assert _snapshot() == before
    assert not User.objects.filter(email="intruder@evil.test").exists()


def test_another_organizations_member_is_404_through_our_urls(
    client_a: Any, org_a: Any, owner_b: Membership
) -> None:
    before = _snapshot()

    for method, page in _pages(org_a, owner_b)[3:]:
        response = getattr(client_a, method)(page, POST_DATA)
        assert response.status_code == 404, (method, page)

    assert _snapshot() == before


def test_another_organizations_slug_is_404(client_a: Any, org_b: Any, owner_b: Membership) -> None:
    before = _snapshot()

    for method, page in _pages(org_b, owner_b):
        response = getattr(client_a, method)(page, POST_DATA)
        assert response.status_code == 404, (method, page)

    assert _snapshot() == before


# --- switching organizations --------------------------------------------------------------------


def test_a_member_of_two_organizations_switches_between_them(
    client_a: Any, org_a: Any, owner_a: Membership, org_b: Any
) -> None:
    member_add(organization=org_b, user=owner_a.user, is_owner=True)
    third = Organization.objects.create(name="Charlie", slug="charlie")

    page_a = client_a.get(url("settings_ladder", org_a))
    assert page_a.status_code == 200
    assert [o.slug for o in page_a.context["other_organizations"]] == ["bravo"]
    assert reverse("dashboard", kwargs={"org": "bravo"}) in page_a.content.decode()

    page_b = client_a.get(url("member_list", org_b))
    assert page_b.status_code == 200
    assert page_b.context["organization"] == org_b
    assert reverse("dashboard", kwargs={"org": "acme"}) in page_b.content.decode()

    for org in (org_a, org_b):
        assert client_a.get(url("dashboard", org)).status_code == 200
    assert client_a.get(url("dashboard", third)).status_code == 404
    assert client_a.get(url("settings_ladder", third)).status_code == 404


def test_home_goes_to_the_organization_last_opened(
    client_a: Any, org_a: Any, owner_a: Membership, org_b: Any
) -> None:
    member_add(organization=org_b, user=owner_a.user, is_owner=True)

    client_a.get(url("settings_ladder", org_b))
    assert client_a.get(reverse("home"))["Location"] == url("dashboard", org_b)

    client_a.get(url("settings_ladder", org_a))
    assert client_a.get(reverse("home"))["Location"] == url("dashboard", org_a)

"""Each member chooses their own notices, per organization: the page and the API."""

from __future__ import annotations

import pytest

from keepscore.accounts.models import Membership
from keepscore.accounts.services import member_add
from tests.api.conftest import api_for
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_both_notices_are_on_by_default(sales_a):
    assert (sales_a.notify_lead_assigned, sales_a.notify_digest) == (True, True)


def test_a_member_sets_their_own_notices_on_the_page(client, sales_a, owner_a):
    client.force_login(sales_a.user)
    page = client.get("/o/acme/notices/")
    assert page.status_code == 200
    assert "A new lead is assigned to me" in page.content.decode()
    response = client.post("/o/acme/notices/", {"lead_assigned": "on"})
    assert response.status_code == 302
    sales_a.refresh_from_db()
    owner_a.refresh_from_db()
    assert (sales_a.notify_lead_assigned, sales_a.notify_digest) == (True, False)
    assert owner_a.notify_digest is True  # only one's own
    # linked from the account menu
    assert 'href="/o/acme/notices/"' in client.get("/o/acme/").content.decode()


def test_notices_belong_to_one_organization(client, org_a, org_b):
    person = make_user("both@acme.test")
    in_a = member_add(organization=org_a, user=person, is_sales=True)
    in_b = member_add(organization=org_b, user=person, is_sales=True)
    client.force_login(person)
    client.post("/o/bravo/notices/", {})
    in_a.refresh_from_db()
    in_b.refresh_from_db()
    assert (in_a.notify_lead_assigned, in_a.notify_digest) == (True, True)
    assert (in_b.notify_lead_assigned, in_b.notify_digest) == (False, False)


def test_the_api_reads_and_sets_the_callers_own(sales_a, owner_a, owner_b):
    api = api_for(sales_a)
    assert api.get("/notices").json() == {"lead_assigned": True, "digest": True}
    changed = api.put("/notices", {"digest": False})
    assert changed.status_code == 200
    assert changed.json() == {"lead_assigned": True, "digest": False}
    assert api.put("/notices", {"digest": "perhaps"}).status_code == 422
    assert Membership.objects.get(pk=sales_a.pk).notify_digest is False
    # another organization's token reads and writes its own member only
    other = api_for(owner_b)
    assert other.put("/notices", {"lead_assigned": False}).json()["lead_assigned"] is False
    assert Membership.objects.get(pk=sales_a.pk).notify_lead_assigned is True
    assert Membership.objects.get(pk=owner_a.pk).notify_lead_assigned is True


def test_the_owner_sees_each_members_notices(client_a, sales_a):
    sales_a.notify_digest = False
    sales_a.save()
    page = client_a.get("/o/acme/members/").content.decode()
    row = page[page.index("sales@acme.test") :]
    row = row[: row.index("</tr>")]
    assert "New leads" in row and "morning digest" not in row

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_an_expired_session_on_an_htmx_request_reloads_the_page_at_login(client, org_a, lead_a):
    url = f"/o/{org_a.slug}/leads/{lead_a.pk}/"
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/login/?next=")

    plain = client.get(url)
    assert plain.status_code == 302 and plain["Location"].startswith("/login/?next=")


def test_the_session_remembers_the_organization_opened_last(client, org_a, org_b, owner_a):
    from keepscore.accounts.services import member_add

    member_add(organization=org_b, user=owner_a.user, is_sales=True)
    client.force_login(owner_a.user)
    assert client.get(f"/o/{org_b.slug}/").status_code == 200
    # a member who sells starts the day on Today; an owner on the dashboard
    assert client.get("/")["Location"] == f"/o/{org_b.slug}/today/"
    assert client.get(f"/o/{org_a.slug}/").status_code == 200
    assert client.get("/")["Location"] == f"/o/{org_a.slug}/"

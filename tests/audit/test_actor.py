"""A sign-in made outside a request (a test client's ``force_login``, a script) names its user
in its own event, and in nothing recorded after it: the actor is not left set in the thread
(it was, and an isolation test then found another organization's owner in a log)."""

from __future__ import annotations

from django.test import Client

from keepscore.audit import services as audit
from keepscore.audit.context import current
from keepscore.audit.models import AuditEvent


def test_a_sign_in_outside_a_request_leaves_no_actor_behind(org_a, owner_a):
    Client().force_login(owner_a.user)
    signed_in = AuditEvent.objects.get(action="logged_in")
    assert (signed_in.user_id, signed_in.organization_id) == (owner_a.user_id, org_a.pk)
    assert current().user_id is None and current().via == "system"
    later = audit.record(action="created", organization=org_a, summary="later")
    assert (later.user_id, later.via) == (None, "system")

"""Django for a benchmark script that writes through the services: set up and migrated on the
database of ``DATABASE_URL`` (a throwaway PostgreSQL: ``scripts/with-postgres.sh``) or on a new
SQLite database, always in a new temporary KEEPSCORE_HOME (never the person's own), and an
organization with its owner to write in. Not a test."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keepscore.accounts.models import Membership, Organization


def django_ready(prefix: str, home: str | None = None) -> None:
    """Set Django up in a new temporary home (``prefix``: its folder's name), or in ``home``
    (one an earlier run kept), and migrate."""
    os.environ["KEEPSCORE_HOME"] = home or tempfile.mkdtemp(prefix=prefix)
    os.environ["DJANGO_SETTINGS_MODULE"] = "keepscore.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_organization(name: str, slug: str) -> tuple[Organization, Membership]:
    """A new organization (``slug`` new on this database) and its owner's membership."""
    from keepscore.accounts.models import Membership
    from keepscore.accounts.services import organization_create, user_create

    owner = user_create(email=f"owner@{slug}.test", password="correct-horse-battery-9")
    organization = organization_create(name=name, slug=slug, owner=owner)
    return organization, Membership.objects.get(organization=organization, user=owner)

"""Two submissions at the same moment take turns: the second waits for the first's lock on
the web form's row (PostgreSQL's row lock, SQLite's write lock), then takes the next sales
member, never the same one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from keepscore.accounts.models import Membership
from keepscore.accounts.services import member_add
from keepscore.leads.models import Lead
from keepscore.webforms.models import Assign
from keepscore.webforms.services import PageSource, webform_save, webform_submit
from tests.conftest import make_user
from tests.webforms.conftest import checked
from tests.webforms.test_replay import Threads


@pytest.fixture
def threads(transactional_db: Any, tmp_path: Path) -> Iterator[Threads]:
    threads = Threads(tmp_path)
    yield threads
    threads.done()


def test_a_second_submission_waits_and_takes_the_next_member(org_a, owner_a, threads):
    Membership.objects.filter(pk=owner_a.pk).update(is_sales=False)
    ann, ben = (
        member_add(organization=org_a, user=make_user(f"{n}@acme.test"), is_sales=True)
        for n in ("ann", "ben")
    )
    form = webform_save(
        organization=org_a, name="Contact", fields=["name"], assign=Assign.ROUND_ROBIN
    )
    stamps = [checked(form), checked(form)]
    threads.fork()
    first_in = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def submit(name: str, stamp: Any, hold: bool) -> None:
        threads.connect()
        try:
            with transaction.atomic():
                webform_submit(webform=form, data={"name": name}, source=PageSource(), stamp=stamp)
                if hold:
                    first_in.set()
                    release.wait(10)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    a = threading.Thread(target=submit, args=("First", stamps[0], True))
    a.start()
    assert first_in.wait(10)
    b = threading.Thread(target=submit, args=("Second", stamps[1], False))
    b.start()
    b.join(0.5)
    assert b.is_alive(), "the second submission did not wait for the first"
    release.set()
    a.join(10)
    b.join(10)
    assert errors == []
    owners = dict(Lead.objects.values_list("name", "owner_id"))
    assert owners == {"First": ann.pk, "Second": ben.pk}

"""A public form's stamp is accepted once: a repeat, a replay or a race makes one lead."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from keepscore.leads.models import Lead, StageChange
from keepscore.webforms.models import UsedStamp, WebForm, WebFormSubmission, consent_version
from keepscore.webforms.services import PageSource, StampUsed, webform_save, webform_submit
from keepscore.webforms.stamps import STAMP_MAX_AGE, stamp_check
from tests.webforms.conftest import CONSENT, checked, stamp


def url(webform: WebForm) -> str:
    return reverse("webform_public", kwargs={"key": webform.key})


def row_counts() -> dict[str, int]:
    """How many rows every table of the project holds."""
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m.__module__.startswith("keepscore.")
    }


def post_data(ts: str, name: str = "Ada Lovelace") -> dict[str, str]:
    return {
        "name": name,
        "email": "ada@example.com",
        "website": "",
        "ts": ts,
        "consent": "on",
        "consent_version": consent_version(CONSENT),
    }


def test_the_same_stamp_posted_twice_makes_one_lead_and_the_same_page(client, webform):
    ts = stamp(webform)
    first = client.post(url(webform), post_data(ts))
    after_first = row_counts()
    second = client.post(url(webform), post_data(ts))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert first["Location"] == reverse("webform_thanks", kwargs={"key": webform.key})
    assert row_counts() == after_first  # nothing at all: no lead, no event, no stamp row
    assert Lead.objects.count() == WebFormSubmission.objects.count() == 1
    assert StageChange.objects.count() == 1 and UsedStamp.objects.count() == 1


def test_a_replay_with_other_data_makes_nothing_either(client, webform):
    webform.thank_you_url = "https://acme.test/thanks"
    webform.save()
    ts = stamp(webform)
    assert client.post(url(webform), post_data(ts))["Location"] == "https://acme.test/thanks"
    again = client.post(url(webform), post_data(ts, name="Mallory"))
    assert again.status_code == 302 and again["Location"] == "https://acme.test/thanks"
    assert list(Lead.objects.values_list("name", flat=True)) == ["Ada Lovelace"]


def test_two_pages_shown_in_the_same_second_have_different_stamps(client, webform):
    pages = [client.get(url(webform)).content.decode() for _ in range(2)]
    stamps = [p.split('name="ts" value="')[1].split('"')[0] for p in pages]
    assert stamps[0] != stamps[1]
    # two visitors who loaded the page in the same second each make their lead
    with_age = [stamp(webform), stamp(webform)]
    assert with_age[0] != with_age[1]
    for i, ts in enumerate(with_age):
        client.post(url(webform), post_data(ts, name=f"Visitor {i}"))
    assert Lead.objects.count() == 2


def test_the_service_accepts_a_stamp_once(webform):
    once = checked(webform)
    webform_submit(
        webform=webform, data={"name": "Ada", "consent": "yes"}, source=PageSource(), stamp=once
    )
    before = row_counts()
    with pytest.raises(StampUsed):
        webform_submit(
            webform=webform, data={"name": "Ada", "consent": "yes"}, source=PageSource(), stamp=once
        )
    assert row_counts() == before


def test_a_refused_submission_leaves_its_stamp_unused(webform):
    """All or nothing: the stamp is used only with the lead it made."""
    once = checked(webform)
    webform.active = False
    with pytest.raises(Exception, match="closed"):
        webform_submit(
            webform=webform, data={"name": "Ada", "consent": "yes"}, source=PageSource(), stamp=once
        )
    webform.active = True
    with pytest.raises(Exception, match="name"):
        webform_submit(
            webform=webform, data={"name": " ", "consent": "yes"}, source=PageSource(), stamp=once
        )
    assert not UsedStamp.objects.exists()
    webform_submit(
        webform=webform, data={"name": "Ada", "consent": "yes"}, source=PageSource(), stamp=once
    )
    assert Lead.objects.count() == 1


def test_used_stamps_older_than_a_stamp_can_live_are_pruned(webform):
    now = timezone.now()
    old = UsedStamp.objects.create(
        digest="o" * 64, used_at=now - timedelta(seconds=STAMP_MAX_AGE + 5)
    )
    recent = UsedStamp.objects.create(digest="r" * 64, used_at=now - timedelta(seconds=60))
    webform_submit(
        webform=webform,
        data={"name": "Ada", "consent": "yes"},
        source=PageSource(),
        stamp=checked(webform),
    )
    left = set(UsedStamp.objects.values_list("digest", flat=True))
    assert old.digest not in left and recent.digest in left and len(left) == 2


def test_an_expired_stamp_is_refused_clearly_and_the_form_can_be_sent_at_once(client, webform):
    old = stamp(webform, age=STAMP_MAX_AGE + 60)
    response = client.post(url(webform), post_data(old))
    html = response.content.decode()
    assert response.status_code == 400
    assert "This form was open for more than 2 hours: please send it again." in html
    assert 'value="Ada Lovelace"' in html  # what was typed is kept
    assert not Lead.objects.exists()
    # sent again straight away: the new stamp is not taken for a bot's speed
    fresh = html.split('name="ts" value="')[1].split('"')[0]
    assert stamp_check(fresh, form_key=webform.key).age > 3
    assert client.post(url(webform), post_data(fresh)).status_code == 302
    assert Lead.objects.count() == 1


def test_the_validity_is_a_setting(client, webform, settings):
    settings.WEBFORM_STAMP_MAX_AGE = 30 * 60
    response = client.post(url(webform), post_data(stamp(webform, age=31 * 60)))
    assert response.status_code == 400
    assert "open for more than 30 minutes" in response.content.decode()
    assert client.post(url(webform), post_data(stamp(webform, age=29 * 60))).status_code == 302


def test_a_stamp_for_another_form_or_forged_is_refused(client, webform, org_a):
    other = WebForm.objects.create(organization=org_a, name="Other", fields=["name"])
    forged = stamp(webform).replace(webform.key, other.key)
    for ts in (stamp(other), forged, webform.key):
        response = client.post(url(webform), post_data(ts))
        assert response.status_code == 400
        assert "This form was changed: please send it again." in response.content.decode()
    assert not Lead.objects.exists()


# --- at the same time ---------------------------------------------------------------------


class Threads:
    """Each thread's own connection to the test database, as each gunicorn worker has.

    On SQLite the test database is in memory with a shared cache, where a second writer is
    refused at once ("table is locked") instead of waiting as it does on a file. So there
    the threads work on a file copy of it (made by VACUUM INTO once the data is set up):
    WAL, BEGIN IMMEDIATE and a busy timeout, as the app is served.
    """

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.settings: dict[str, Any] | None = None
        self.main = connections["default"]

    def fork(self) -> None:
        """From now on, every thread (this one too) reads and writes the copy."""
        if connection.vendor != "sqlite":
            return
        path = self.tmp_path / "threads.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(path)])
        self.settings = {**connection.settings_dict, "NAME": str(path)}
        self.connect()

    def connect(self) -> None:
        if self.settings is not None:
            connections["default"] = type(self.main)(self.settings, "default")

    def done(self) -> None:
        if self.settings is not None:
            connections["default"].close()
            connections["default"] = self.main


@pytest.fixture
def threads(transactional_db: Any, tmp_path: Path) -> Iterator[Threads]:
    threads = Threads(tmp_path)
    yield threads
    threads.done()


def test_a_second_post_waits_for_the_first_and_then_makes_nothing(org_a, threads):
    """Deterministic overlap: the first submission holds its transaction open while the
    second runs; the second must wait (the unique row on PostgreSQL, the write lock on
    SQLite), then find the stamp used."""
    form = webform_save(organization=org_a, name="Contact", fields=["name"])
    once = checked(form)
    threads.fork()
    first_in = threading.Event()
    release = threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        threads.connect()
        try:
            with transaction.atomic():
                webform_submit(
                    webform=form,
                    data={"name": "A", "consent": "yes"},
                    source=PageSource(),
                    stamp=once,
                )
                first_in.set()
                release.wait(10)
            outcome["first"] = "made"
        finally:
            connection.close()

    def second() -> None:
        threads.connect()
        try:
            webform_submit(
                webform=form, data={"name": "B", "consent": "yes"}, source=PageSource(), stamp=once
            )
            outcome["second"] = "made"
        except StampUsed:
            outcome["second"] = "used"
        finally:
            connection.close()

    a = threading.Thread(target=first)
    a.start()
    assert first_in.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)
    assert b.is_alive(), "the second post did not wait for the first"
    release.set()
    a.join(10)
    b.join(10)
    assert outcome == {"first": "made", "second": "used"}
    assert list(Lead.objects.values_list("name", flat=True)) == ["A"]
    assert UsedStamp.objects.count() == 1


def test_two_clients_posting_the_same_stamp_at_once_make_one_lead(org_a, threads):
    form = webform_save(organization=org_a, name="Contact", fields=["name", "email"])
    ts = stamp(form)
    threads.fork()
    cache.clear()
    start = threading.Barrier(2)
    statuses: list[int] = []

    def post(address: str) -> None:
        threads.connect()
        try:
            start.wait(5)
            response = Client().post(url(form), post_data(ts), REMOTE_ADDR=address)
            statuses.append(response.status_code)
        finally:
            connection.close()

    workers = [threading.Thread(target=post, args=(f"198.51.100.{i}",)) for i in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert statuses == [302, 302]
    assert Lead.objects.count() == WebFormSubmission.objects.count() == 1
    assert StageChange.objects.count() == 1 and UsedStamp.objects.count() == 1

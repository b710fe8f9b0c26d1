"""``import all``: an ``export all`` archive read back into a new organization gives the same
organization — every row of every table (compared field by field, ids replaced by what they
point at), the same scorecard and funnel figures for every month — and a bad archive leaves
nothing behind, with an error naming the file, row and column."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import models
from typer.testing import CliRunner

from keepscore.accounts.models import Membership, Organization, User
from keepscore.accounts.services import member_remove, organization_create
from keepscore.activities.models import Activity, Objection
from keepscore.activities.services import activity_log
from keepscore.audit.models import AuditEvent
from keepscore.common.periods import Period
from keepscore.demo.generator import demo_create
from keepscore.economics.models import CashPosition, DealLine, MoneySettings, Product, Spend
from keepscore.exports.services import export_all
from keepscore.focus.models import KeptDiagnosis
from keepscore.followups.models import FollowUp
from keepscore.followups.services import followup_add, followup_done
from keepscore.funnel.selectors import funnel
from keepscore.history import recorder
from keepscore.imports.archive import ArchiveError, import_archive
from keepscore.leads.corrections import stage_change_undo
from keepscore.leads.models import (
    Channel,
    DealOutcome,
    Lead,
    LostReason,
    QualificationAnswer,
    QualificationCriterion,
    Stage,
    StageChange,
    StageCorrection,
    Touch,
)
from keepscore.leads.services import lead_create, lead_move
from keepscore.scorecard.compute import scorecard_for, scorecard_json
from keepscore.scorecard.models import Goal, ManualMetric, ManualValue, ReviewEntry, Target
from keepscore.webforms.models import WebForm, WebFormSubmission
from keepscore.webforms.services import PageSource, webform_save, webform_submit
from tests.conftest import channel, stage
from tests.exports.conftest import Known
from tests.webforms.conftest import checked

pytestmark = pytest.mark.django_db

TODAY = date(2025, 6, 30)
PHONE = "+44 20 7946 0000"

#: every table of an organization, and the order its rows were exported (and so written)
ORDER: dict[type[models.Model], tuple[str, ...]] = {
    Membership: ("user__email",),
    Channel: ("pk",),
    LostReason: ("pk",),
    Stage: ("position", "pk"),
    QualificationCriterion: ("position", "pk"),
    Product: ("pk",),
    MoneySettings: ("pk",),
    ManualMetric: ("pk",),
    Lead: ("first_touch_at", "pk"),
    StageChange: ("at", "pk"),
    DealOutcome: ("at", "pk"),
    DealLine: ("pk",),
    StageCorrection: ("at", "pk"),
    Touch: ("at", "pk"),
    Activity: ("at", "pk"),
    Objection: ("at", "pk"),
    QualificationAnswer: ("pk",),
    FollowUp: ("pk",),
    Spend: ("pk",),
    CashPosition: ("pk",),
    ManualValue: ("pk",),
    Target: ("pk",),
    Goal: ("pk",),
    ReviewEntry: ("pk",),
    WebForm: ("pk",),
    WebFormSubmission: ("pk",),
    KeptDiagnosis: ("pk",),
}
#: not carried over: when a row was written, and a web form's public key (when taken here)
SKIP = {"id", "organization", "created_at", "updated_at", "key"}


def _rows(organization: Organization, model: type[models.Model]) -> list[Any]:
    manager: Any = model._default_manager
    return list(manager.filter(organization=organization).order_by(*ORDER[model]))


def picture(organization: Organization) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the organization, in export order, each field as it is
    or, for a reference, as the position of the row it points at (users by email)."""
    position: dict[type[models.Model], dict[int, int]] = {
        model: {obj.pk: i for i, obj in enumerate(_rows(organization, model))} for model in ORDER
    }
    out: dict[str, list[tuple[Any, ...]]] = {}
    for model in ORDER:
        fields = [f for f in model._meta.concrete_fields if f.name not in SKIP]
        rows = []
        for obj in _rows(organization, model):
            row: list[Any] = []
            for f in fields:
                value = getattr(obj, f.attname)
                if isinstance(f, models.ForeignKey) and value is not None:
                    target = f.related_model
                    if target is User:
                        value = User.objects.get(pk=value).email
                    elif target is Organization:
                        value = "the organization"
                    elif model is KeptDiagnosis or target not in position:
                        value = ("?", target)
                    else:
                        value = position[target][value]  # type: ignore[index]
                row.append((f.name, value))
            if model is Membership:
                row = [("email", obj.user.email), *row[2:]]
            rows.append(tuple(row))
        out[model.__name__] = rows
    return out


def figures(organization: Organization, months: list[date]) -> dict[str, Any]:
    """The scorecard of every month, and the funnel of every month, whole and by channel
    and by owner."""
    out: dict[str, Any] = {}
    for month in months:
        card = scorecard_json(scorecard_for(organization, month, today=TODAY))
        card.pop("organization")
        out[f"scorecard {month:%Y-%m}"] = card
        for by in (None, "channel", "owner"):
            report = funnel(organization=organization, period=Period.month(month), by=by).as_dict()
            if by == "owner":  # an owner's group is keyed by the member's id: here another
                for group in report["groups"]:
                    group["key"] = group["label"]
            out[f"funnel {month:%Y-%m} by {by}"] = report
    return out


def _months(first: date, last: date) -> list[date]:
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return out


def _export(organization: Organization, path: Path) -> Path:
    with path.open("wb") as fh:
        export_all(organization=organization, out=fh)
    return path


def _demo_like() -> Organization:
    """The demo organization (14 months: goals from last year), with what the demo lacks:
    two leads sharing a phone number (and name and email), text a spreadsheet would run or
    that starts with a quote, a stage change undone, a web form and a submission, a
    follow-up done, an objection of an activity, and a member who has left."""
    summary = demo_create(seed=7, slug="shop", months=14, today=TODAY)
    org = Organization.objects.get(slug=summary.organization)
    owner = Membership.objects.get(organization=org, is_owner=True)
    at = datetime(2025, 5, 2, 9, 30, 15, 123456).astimezone()
    twins = [
        lead_create(
            organization=org, name="Sam Twin", channel=channel(org, "referral"), by=owner,
            phone=PHONE, email="sam@twin.test", first_touch_at=at, company="=SUM(A1)",
            notes="'quoted\nsecond line  ", value=Decimal("10.05"),
        )
        for _ in range(2)
    ]  # fmt: skip
    lead_move(lead=twins[0], to_stage=stage(org, "prospect"), by=owner, at=at + timedelta(days=1))
    moved = lead_move(
        lead=twins[1], to_stage=stage(org, "lost"), by=owner, at=at + timedelta(days=2),
        outcome=_lost(org),
    )  # fmt: skip
    stage_change_undo(change=moved, by=owner, reason="clicked the wrong column")
    call = activity_log(
        lead=twins[0], kind="connect", by=owner, with_buyer=True, at=at + timedelta(hours=3),
        notes="-5 is what they said", outcome="@later",
    )  # fmt: skip
    from keepscore.activities.services import objection_add

    objection_add(lead=twins[0], tag="price", by=owner, text="Too dear", at=call.at)
    form = webform_save(
        organization=org, name="Contact us", fields=["name", "email", "phone"],
        consent_text="We may call you.",
    )  # fmt: skip
    webform_submit(
        webform=form,
        data={"name": "Web Walt", "email": "walt@web.test", "phone": PHONE, "consent": "yes"},
        source=PageSource(utm_source="news", page_url="https://shop.test/contact"), ip="1.2.3.4",
        stamp=checked(form),
    )  # fmt: skip
    # a person who asked to be erased: a tombstone (erased_at) the new organization keeps
    from keepscore.privacy.services import person_erase

    gone = lead_create(
        organization=org, name="Gone Gail", email="gail@gone.test", channel=channel(org, "referral")
    )
    activity_log(lead=gone, kind="connect", by=owner, with_buyer=True, notes="hers")
    assert person_erase(organization=org, email="gail@gone.test").lead_ids == [gone.pk]
    followup = followup_add(
        lead=twins[0], by=owner, kind="call", due_on=TODAY, due_time=time(9, 45), note="ring"
    )
    followup_done(followup=followup, by=owner, reached=True, notes="spoke")
    leaver = Membership.objects.filter(organization=org, is_owner=False).order_by("pk").last()
    assert leaver is not None and StageChange.objects.filter(by=leaver.user).exists()
    member_remove(membership=leaver)
    return org


def _lost(org: Organization) -> Any:
    from keepscore.leads.services import Outcome

    return Outcome(lost_reason=LostReason.objects.for_org(org).first(), lost_note="went quiet")


def test_an_exported_organization_imported_into_a_new_one_is_the_same(tmp_path: Path) -> None:
    # given: a demo-like organization, exported
    source = _demo_like()
    path = _export(source, tmp_path / "shop.zip")
    users = User.objects.count()

    # when: the archive is read into a new organization
    result = import_archive(path=path, slug="shop-copy")

    # then: every table holds the same rows, field by field
    copy = Organization.objects.get(slug="shop-copy")
    assert copy.name == source.name
    before, after = picture(source), picture(copy)
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    for table in before:
        assert after[table] == before[table], table
    # (the demo fills every table: the comparison is not of empty ones)
    assert all(before[t] for t in before), [t for t in before if not before[t]]
    assert result.counts["leads"] == Lead.objects.for_org(source).count() > 1000
    # the two leads sharing a phone number, name and email stay two, each with its history
    twins = Lead.objects.for_org(copy).filter(phone=PHONE, name="Sam Twin").order_by("pk")
    assert len(twins) == 2
    assert [list(StageChange.objects.filter(lead=t).values_list("to_stage__key", flat=True))
            for t in twins] == [["suspect", "prospect"], ["suspect"]]  # fmt: skip
    assert StageCorrection.objects.for_org(copy).get().lead == twins[1]
    assert twins[0].company == "=SUM(A1)" and twins[0].notes == "'quoted\nsecond line"
    # the web form has a public address of its own (the source's is taken here)
    assert WebForm.objects.for_org(copy).get().key != WebForm.objects.for_org(source).get().key
    assert any("new public address" in note for note in result.notes)
    # the new organization's audit log says where its data came from
    (event,) = AuditEvent.objects.filter(organization=copy, action="imported")
    assert event.object_type == "archive"
    total = sum(result.counts.values())
    assert event.summary == f"an export-all archive: {total:,} rows in {len(result.counts)} tables"
    # the members came back with their roles; nobody new was made (all are users here)
    assert User.objects.count() == users and not result.new_users

    # and: the same scorecard and funnel figures for every month, and the summaries agree
    # with the history they are kept from
    months = _months(date(2024, 4, 1), TODAY)
    assert figures(copy, months) == figures(source, months)
    assert recorder.verify(organization=copy) == []
    won = DealOutcome.objects.for_org(copy).filter(result="won").count()
    assert won > 50  # figures worth comparing


def test_the_archive_of_an_organization_on_another_installation(tmp_path: Path) -> None:
    """Members whose users do not exist here become users without login; an existing empty
    organization takes the archive's settings instead of its defaults."""
    source, owner = _small()
    path = _export(source, tmp_path / "small.zip")
    source_picture = picture(source)
    # as if on another installation: the archive's users are not here
    emails = User.objects.filter(memberships__organization=source).values_list("email", flat=True)
    moved = tmp_path / "moved.zip"
    _rewrite_all(path, moved, lambda name, text: text.replace("@small.test", "@other.test"))
    empty = organization_create(name="Empty", slug="empty")
    assert Stage.objects.for_org(empty).exists()  # its default ladder

    result = import_archive(path=moved, slug="empty", name="Now full")

    empty.refresh_from_db()
    assert empty.name == "Now full"
    assert sorted(result.new_users) == sorted(e.replace("@small", "@other") for e in emails)
    assert not User.objects.get(email="owner@other.test").has_usable_password()
    assert Membership.objects.get(organization=empty, user__email="owner@other.test").is_owner
    copied = picture(empty)
    for table, rows in source_picture.items():
        assert len(copied[table]) == len(rows), table
    assert json.dumps(copied, default=str).replace("@other.test", "@small.test") == json.dumps(
        source_picture, default=str
    )
    assert owner.organization == source


def _small() -> tuple[Organization, Membership]:
    from tests.conftest import make_org

    org, owner = make_org("small", "owner@small.test")
    for name in ("One", "Two"):
        lead = lead_create(organization=org, name=name, channel=channel(org), by=owner, phone=PHONE)
        lead_move(lead=lead, to_stage=stage(org, "prospect"), by=owner)
    return org, owner


def _rewrite_all(source: Path, target: Path, change: Callable[[str, str], str]) -> None:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            text = zin.read(info).decode("utf-8")
            zout.writestr(info.filename, change(info.filename, text))


# --- bad archives: nothing written ----------------------------------------------------


def _nothing_written(users: int) -> None:
    assert not Organization.objects.filter(slug="copy").exists()
    assert User.objects.count() == users


def _refused(path: Path, users: int) -> str:
    with pytest.raises(ArchiveError) as caught:
        import_archive(path=path, slug="copy")
    _nothing_written(users)
    return str(caught.value)


def test_a_bad_row_is_named_by_file_row_and_column_and_nothing_is_written(
    known: Known, tmp_path: Path
) -> None:
    good = _export(known.org, tmp_path / "good.zip")
    users = User.objects.count()

    def cell(name: str, column: str, value: str, row: int = 1) -> Path:
        """A copy with one cell of one file changed (``row``: the data row, 1 first)."""
        target = tmp_path / f"{name}-{column}.zip"

        def change(file: str, text: str) -> str:
            if file != f"{name}.csv":
                return text
            import csv

            rows = list(csv.reader(io.StringIO(text, newline="")))
            rows[row][rows[0].index(column)] = value
            out = io.StringIO()
            csv.writer(out).writerows(rows)
            return out.getvalue()

        _rewrite_all(good, target, change)
        return target

    first_channel = zipfile.ZipFile(good).read("channels.csv").decode().splitlines()[1]
    first_channel = first_channel.split(",")[1]
    cases = {
        cell("leads", "value", "lots", row=2): "leads.csv, row 3, column value: “lots” value "
        "must be a decimal number.",
        cell("leads", "created", "2024-13-40"): "leads.csv, row 2, column created:",
        cell("leads", "stage", "heaven"): "leads.csv, row 2, column stage: no stage 'heaven' "
        "in stages.csv",
        cell("leads", "name", ""): "leads.csv, row 2, column name: This field cannot be blank.",
        cell("stage_changes", "lead_key", "ks-0"): "stage_changes.csv, row 2, column lead_key: "
        "no lead with key 'ks-0' in leads.csv",
        cell("stage_changes", "qualification_override", "maybe"): "stage_changes.csv, row 2, "
        "column qualification_override: 'maybe' is neither true nor false",
        cell("outcomes", "revenue", ""): "outcomes.csv, row",
        cell("activities", "kind", "dance"): "activities.csv, row 2, column kind: Value "
        "'dance' is not a valid choice.",
        cell("activities", "by", "stranger@x.test"): "activities.csv, row 2, column by: "
        "stranger@x.test is not in members.csv",
        cell("members", "roles", "owner boss"): "members.csv, row 2, column roles: unknown "
        "roles boss",
        cell("leads", "facts", "{oops"): "leads.csv, row 2, column facts: not JSON",
        cell("channels", "key", first_channel, row=2): "channels.csv, row 3: the database "
        "refuses this channel:",
    }
    for path, expected in cases.items():
        message = _refused(path, users)
        assert message.startswith(expected), (path.name, message)


def test_an_archive_that_is_not_an_export_or_is_damaged_is_refused(
    known: Known, tmp_path: Path
) -> None:
    good = _export(known.org, tmp_path / "good.zip")
    users = User.objects.count()
    not_zip = tmp_path / "leads.zip"
    not_zip.write_text("id,name\n1,Ada\n")
    other_zip = tmp_path / "photos.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("cat.jpg", b"\xff\xd8")
    backup = tmp_path / "backup.zip"
    with zipfile.ZipFile(backup, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"kind": "keepscore backup"}))
    old = tmp_path / "old.zip"
    _rewrite_all(
        good,
        old,
        lambda name, text: (
            json.dumps({"format_version": 1, "counts": {}}) if name == "manifest.json" else text
        ),
    )
    no_leads = tmp_path / "no-leads.zip"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(no_leads, "w") as zout:
        for info in zin.infolist():
            if info.filename != "leads.csv":
                zout.writestr(info, zin.read(info))
    damaged = tmp_path / "damaged.zip"
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("stage_changes.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 5, start + 25):
        data[i] ^= 0xFF
    damaged.write_bytes(bytes(data))
    bad_utf8 = tmp_path / "latin1.zip"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad_utf8, "w") as zout:
        for info in zin.infolist():
            raw = zin.read(info)
            if info.filename == "activities.csv":
                raw = raw.replace(b"meeting", "meeting\u00e9".encode("latin-1"))
            zout.writestr(info, raw)

    cases = {
        not_zip: "leads.zip is not an `export all` archive: not a zip, or a damaged one",
        other_zip: "photos.zip is not an `export all` archive: no manifest.json",
        backup: "backup.zip is a backup of a whole installation, not an export: restore it",
        old: "old.zip is an export of format 1, which lacks what a faithful copy needs",
        no_leads: "no-leads.zip lacks leads.csv",
        damaged: "damaged.zip is damaged: stage_changes.csv does not read",
        bad_utf8: "activities.csv: not UTF-8 text (line 2 of the file)",
        tmp_path / "nothing.zip": "no such file",
    }
    for path, expected in cases.items():
        message = _refused(path, users)
        assert expected in message, (path.name, message)


def test_import_all_into_an_organization_with_records_is_refused(known: Known, tmp_path: Path):
    path = _export(known.org, tmp_path / "acme.zip")
    leads = Lead.objects.count()
    with pytest.raises(ArchiveError) as caught:
        import_archive(path=path, slug="bravo")  # it has a lead
    assert "the organization 'bravo' holds records already (leads)" in str(caught.value)
    assert Lead.objects.count() == leads


def test_the_command(known: Known, tmp_path: Path) -> None:
    from keepscore.cli.main import app

    path = _export(known.org, tmp_path / "acme.zip")
    runner = CliRunner()
    done = runner.invoke(app, ["import", "all", str(path), "--org", "acme-2"])
    assert done.exit_code == 0, done.output
    assert "Imported acme.zip into acme-2 (Acme): 2 leads, 7 stage changes, 2 outcomes, 1 " \
        "activities, 1 objections, 0 follow-ups" in " ".join(done.stdout.split())  # fmt: skip
    assert Lead.objects.for_org(Organization.objects.get(slug="acme-2")).count() == 2
    again = runner.invoke(app, ["import", "all", str(path), "--org", "acme-2"])
    assert again.exit_code == 1
    line = again.stderr.strip()
    assert line.startswith("error: nothing imported: the organization 'acme-2' holds records")
    assert len(line.splitlines()) == 1

"""The app's side of the real-worker tests, run as its own process (``python -m
tests.worker.driver COMMAND ...``) with the served settings on a file database under
``KEEPSCORE_HOME``, where a real ``keepscore worker`` reads the same queue. It goes through
the app's views with Django's test client and prints what it saw as one JSON line.

Commands: ``setup`` (migrate; the organization acme and its owner), ``import FILE`` (upload
and import through the import pages; prints the job), ``wait JOB SECONDS`` (poll the
progress partial as the page does until the job ends), ``status JOB`` (the job's row and the
leads, read without a page view), ``pdf`` (ask for this month's scorecard PDF on the page).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keepscore.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the client's "testserver" host is allowed
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def _client() -> Any:
    from django.test import Client

    from keepscore.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email="owner@acme.test"))
    return client


def _form_data(page: str, **changes: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for name, body in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        data[name] = chosen.group(1) if chosen else ""
    data["new_members"] = "on"
    data.update(changes)
    return data


def _job(job_pk: int) -> dict[str, Any]:
    from keepscore.imports.models import ImportJob
    from keepscore.leads.models import Lead

    job = ImportJob.objects.get(pk=job_pk)
    return {
        "job": job.pk,
        "status": job.status,
        "phase": job.phase,
        "created": job.created,
        "rows": job.rows,
        "problems": (job.report or {}).get("problems", []),
        "leads": Lead.objects.filter(organization=job.organization).count(),
    }


def main(argv: list[str]) -> dict[str, Any]:
    _setup()
    command = argv[0]
    if command == "setup":
        from django.core.management import call_command

        from keepscore.accounts.models import User
        from keepscore.accounts.services import organization_create

        call_command("migrate", verbosity=0)
        owner = User.objects.create_user(email="owner@acme.test", password="a-long-password-1")
        organization = organization_create(name="Acme", slug="acme", owner=owner)
        return {"org": organization.pk}
    if command == "import":
        from django.core.files.uploadedfile import SimpleUploadedFile

        from keepscore.imports.models import ImportJob

        client = _client()
        with open(argv[1], "rb") as handle:
            file = SimpleUploadedFile("leads.csv", handle.read(), content_type="text/csv")
        response = client.post("/o/acme/import/", {"file": file, "preset": "plain"})
        assert response.status_code == 302, response.status_code
        url = response["Location"]
        page = client.get(url).content.decode()
        response = client.post(url, _form_data(page, action="import"))
        assert response.status_code == 302, response.content.decode()[:2000]
        job_pk = int(url.rstrip("/").rsplit("/", 1)[1])
        page = client.get(url).content.decode()
        return {**_job(job_pk), "url": url, "waiting": "waiting for the worker" in page}
    if command == "wait":
        client = _client()
        job_pk, seconds = int(argv[1]), float(argv[2])
        url = f"/o/acme/import/{job_pk}/progress/"
        deadline = time.monotonic() + seconds
        polls = 0
        while True:
            partial = client.get(url).content.decode()
            polls += 1
            if "hx-trigger" not in partial or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        page = client.get(f"/o/acme/import/{job_pk}/").content.decode()
        return {**_job(job_pk), "polls": polls, "partial": partial, "page": page}
    if command == "status":
        from keepscore.imports.models import ImportJob

        return _job(int(argv[1])) if len(argv) > 1 else {"jobs": ImportJob.objects.count()}
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))

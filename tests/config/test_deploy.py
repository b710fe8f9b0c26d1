"""``check --deploy`` under the documented production settings reports nothing.

Each case runs Django in a fresh process with only the environment a production install sets
(settings are read from the environment once, at import): HTTPS=1, ALLOWED_HOSTS,
CSRF_TRUSTED_ORIGINS, and the secret key generated on first run or given in SECRET_KEY.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

import keepscore

SRC = str(Path(keepscore.__file__).resolve().parents[1])
PRODUCTION = {
    "HTTPS": "1",
    "ALLOWED_HOSTS": "crm.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://crm.example.com",
}
# of the test run's environment, only what any process needs (no DJANGO_ALLOW_ASYNC_UNSAFE
# from the browser tests, no DEBUG, no SECRET_KEY, ...)
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "DATABASE_URL")


def run(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in KEPT}
    base.update(
        KEEPSCORE_HOME=str(tmp_path),
        PYTHONPATH=SRC,
        DJANGO_SETTINGS_MODULE="keepscore.config.settings",
    )
    return subprocess.run(
        [sys.executable, *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def deploy_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run(tmp_path, ["-m", "django", "check", "--deploy", "--fail-level", "WARNING"], **env)


# the Strict-Transport-Security header Django's SecurityMiddleware sends under these settings
HSTS = """
import json, django
django.setup()
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory
response = SecurityMiddleware(lambda r: HttpResponse())(
    RequestFactory().get("/", secure=True, HTTP_HOST="crm.example.com")
)
print(json.dumps(response.get("Strict-Transport-Security")))
"""


def hsts(tmp_path: Path, **env: str) -> str:
    done = run(tmp_path, ["-c", HSTS], **env)
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout.strip().splitlines()[-1]))


def test_production_settings_pass_the_deploy_check_with_a_generated_key(tmp_path: Path) -> None:
    done = deploy_check(tmp_path, **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout, done.stdout
    assert len((tmp_path / "secret_key").read_text().strip()) >= 50
    # one year, subdomains, no preload: the documented defaults
    assert hsts(tmp_path, **PRODUCTION) == "max-age=31536000; includeSubDomains"


def test_production_settings_pass_with_a_strong_key_and_preload(tmp_path: Path) -> None:
    key = secrets.token_urlsafe(50)
    done = deploy_check(tmp_path, **PRODUCTION, SECRET_KEY=key, HSTS_PRELOAD="1")
    assert done.returncode == 0, done.stdout + done.stderr
    # nothing silenced when preloading is asked for
    assert "System check identified no issues (0 silenced)" in done.stdout, done.stdout
    assert not (tmp_path / "secret_key").exists()
    assert (
        hsts(tmp_path, **PRODUCTION, SECRET_KEY=key, HSTS_PRELOAD="1")
        == "max-age=31536000; includeSubDomains; preload"
    )


@pytest.mark.parametrize(
    ("env", "warning"),
    [
        ({"SECRET_KEY": "too-short-a-key"}, "security.W009"),
        ({"HSTS_INCLUDE_SUBDOMAINS": "0"}, "security.W005"),
        ({"HSTS_SECONDS": "0"}, "security.W004"),
        ({"HTTPS": "0"}, "security.W008"),  # no redirect to https (and no secure cookies)
        ({"DEBUG": "1"}, "security.W018"),
    ],
)
def test_the_check_does_report_what_production_must_not_have(
    tmp_path: Path, env: dict[str, str], warning: str
) -> None:
    done = deploy_check(tmp_path, **{**PRODUCTION, **env})
    assert done.returncode != 0
    assert warning in done.stderr + done.stdout

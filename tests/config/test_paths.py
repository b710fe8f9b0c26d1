from __future__ import annotations

import pytest

from keepscore.config.paths import keepscore_home, secret_key


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = secret_key(tmp_path)
    assert len(first) >= 50
    assert secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_an_empty_secret_key_file_is_replaced(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("\n")
    key = secret_key(tmp_path)
    assert key and (tmp_path / "secret_key").read_text().strip() == key


def test_secret_key_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert secret_key(tmp_path) == "from-env"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("sub", ["a", "a/b/c"])
def test_keepscore_home_is_created(tmp_path, monkeypatch, sub):
    monkeypatch.setenv("KEEPSCORE_HOME", str(tmp_path / sub))
    assert keepscore_home() == tmp_path / sub and (tmp_path / sub).is_dir()

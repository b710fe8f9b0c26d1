"""Where keepscore keeps its files, and the secret key it generates on first run."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import platformdirs


def keepscore_home() -> Path:
    """The data folder: ``KEEPSCORE_HOME`` or the per-user data folder of the platform.

    On Linux that is ``~/.local/share/keepscore``.
    """
    raw = os.environ.get("KEEPSCORE_HOME")
    home = Path(raw).expanduser() if raw else Path(platformdirs.user_data_dir("keepscore"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def secret_key(home: Path) -> str:
    """``SECRET_KEY`` from the environment, else from ``HOME/secret_key``, created once."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    path = home / "secret_key"
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    # missing or empty: write a new one atomically, so two processes starting at once agree
    key = secrets.token_urlsafe(50)
    tmp = path.with_name(f".secret_key.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)  # fails if another process got there first
    except FileExistsError:
        if not path.read_text().strip():
            os.replace(tmp, path)
            return key
        return path.read_text().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key

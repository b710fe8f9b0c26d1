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
    if not path.exists():
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
    return path.read_text().strip()

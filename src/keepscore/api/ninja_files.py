"""django-ninja's own files (its Swagger UI page and scripts, so ``/api/v1/docs`` works
offline) found as an installed app's templates and static files, without importing ninja.

``"ninja"`` itself in ``INSTALLED_APPS`` would import it, and pydantic with it, each time
Django starts: every ``keepscore`` command paid for it, though only the API uses it. This
app has ninja's label and directory, so the template and static-file finders see the same
files; the API imports ninja when its URLs load.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from django.apps import AppConfig


def _ninja_directory() -> str:
    spec = find_spec("ninja")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("django-ninja is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))))


class NinjaFilesConfig(AppConfig):
    name = "keepscore.api.ninja_files"
    label = "ninja"
    verbose_name = "django-ninja (its templates and static files)"
    path = _ninja_directory()

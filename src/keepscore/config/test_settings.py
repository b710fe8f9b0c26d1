"""Settings for the test suite: the real ones, with a fast password hasher."""

from keepscore.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# web imports run inline in tests (deterministic); tests/imports/test_views.py tries the thread
IMPORTS_IN_BACKGROUND = False

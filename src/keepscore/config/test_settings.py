"""Settings for the test suite: the real ones, with a fast password hasher."""

from keepscore.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# web imports run inline in tests (deterministic); tests/imports/test_views.py tries the thread
IMPORTS_IN_BACKGROUND = False
# tasks of the background worker run in the test's own process (tests/worker starts a real one)
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405

# The suite's SQLite databases are in memory, where keepscore.common.sqlite has no queue to
# keep (one connection); pytest-django knows SQLite by Django's engine name (an xdist worker's
# database in memory), so the tests name it. tests/common/test_sqlite_queue.py tests the queue.
if DATABASES["default"]["ENGINE"] == "keepscore.common.sqlite":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "django.db.backends.sqlite3"  # noqa: F405

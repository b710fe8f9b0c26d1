"""Backup and restore of a whole installation: the database (SQLite through its online
backup API, PostgreSQL through ``pg_dump``), the files kept under ``KEEPSCORE_HOME`` and a
manifest, in one archive; restored into an empty home or database, checked first."""

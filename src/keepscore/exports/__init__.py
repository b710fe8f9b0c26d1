"""Exports: every record of an organization, as CSV, XLSX, JSON lines or one zip archive."""

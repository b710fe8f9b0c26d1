"""The audit log: who changed, imported, exported, signed in or was refused what, when and
from where — append-only, ids only (no personal data beyond them), read by owners."""

"""Synthetic, reproducible demo data: a small business with two years of history."""

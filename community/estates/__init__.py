"""Estates (小区), the engineers who cover them, and their residents."""

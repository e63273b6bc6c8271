"""Becoming and being an ambassador: memberships, applications and their decisions, the ambassadors console."""

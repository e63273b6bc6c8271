"""Notifications: an in-app inbox for everyone, WeChat subscribe messages for those with quota,
sent through an outbox (see services.py)."""

"""The API blueprint class: every JSON view is wrapped in the one commit boundary."""
from __future__ import annotations

from functools import wraps

import flask_smorest
from flask import current_app, request

from core.extensions import db

READ_METHODS = frozenset({"GET", "HEAD"})


def _commit_boundary(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.method in READ_METHODS:
            # Reads need no transaction: without BEGIN/COMMIT a simple read is two round trips
            # shorter. GET views never write (HTTP semantics; the convention of this codebase),
            # except the once-a-day activity mark of authentication, which autocommit commits
            # as it runs: there is nothing to commit or roll back afterwards.
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            return view(*args, **kwargs)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code < 400:
            db.session.commit()  # an IntegrityError here becomes a 409 in core.errors
        else:
            db.session.rollback()
        return response
    return wrapper


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest Blueprint whose views commit once when they succeed and roll back otherwise.

    Services flush; this boundary commits, so one service can call another inside one
    transaction and a failed request leaves nothing behind. GET and HEAD run in autocommit.
    """

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **options):
        if view_func is not None and not isinstance(view_func, type):
            view_func = _commit_boundary(view_func)
        return super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)

"""The ceilings: a bare Flask app with no extensions, no middleware and no ORM.

`bench/binding.py` serves it under the same gunicorn settings as the platform:
- `GET /json` is what Flask alone does on this machine (the framework ceiling);
- `GET /db` answers the same question as `GET /api/v1/me/stewards` (token → user, user → steward)
  with the same two index lookups through the PostgreSQL driver alone, on one autocommit
  connection per worker: what any database-backed endpoint of two queries can reach here.
`gunicorn bench.bare_app:app` (with DATABASE_URL for `/db`).
"""
import hashlib
import os

import psycopg
from flask import Flask, jsonify, request

app = Flask(__name__)
_connection = None

TOKEN_SQL = ("SELECT u.id FROM users u JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = %s "
             "AND t.revoked_at IS NULL AND t.expires_at > now() AT TIME ZONE 'utc' AND u.status = 'active'")
STEWARD_SQL = ("SELECT b.id, b.started_at, g.id, g.name, g.phone, g.status, e.id, e.name, e.city, e.district "
               "FROM steward_bindings b JOIN engineers g ON g.id = b.engineer_id JOIN estates e ON e.id = b.estate_id "
               "WHERE b.resident_id = %s AND b.ended_at IS NULL")


@app.get("/json")
def hello():
    return jsonify(message="Hello, World!")


@app.get("/db")
def stewards_by_driver():
    global _connection
    if _connection is None:
        _connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    user = _connection.execute(TOKEN_SQL, (hashlib.sha256(token.encode()).hexdigest(),)).fetchone()
    if user is None:
        return jsonify(error="unauthorized"), 401
    return jsonify(items=[{
        "binding_id": r[0], "since": r[1].isoformat(),
        "engineer": {"id": r[2], "name": r[3], "phone": r[4], "status": r[5]},
        "estate": {"id": r[6], "name": r[7], "city": r[8], "district": r[9]},
    } for r in _connection.execute(STEWARD_SQL, (user[0],))])

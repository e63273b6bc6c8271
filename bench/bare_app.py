"""The framework ceiling: a bare Flask app with one JSON endpoint and nothing else.

`bench/binding.py` serves it under the same gunicorn settings as the platform, so
`GET /api/v1/me/stewards` can be compared with what Flask alone does on this machine.
No database, no extensions, no middleware: `gunicorn bench.bare_app:app`.
"""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/json")
def hello():
    return jsonify(message="Hello, World!")

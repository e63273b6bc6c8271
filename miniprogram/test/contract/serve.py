"""The server the mini-program's contract tests drive: the Flask app on a fresh SQLite database
(migrated), the fake WeChat, and a staff account to set things up with. Started by jest's
globalSetup (global-setup.js); prints one JSON line with the addresses, then serves until killed.

    ../.venv/bin/python test/contract/serve.py
"""
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from core import create_app  # noqa: E402
from core.accounts import services as accounts  # noqa: E402
from core.extensions import db  # noqa: E402
from core.wechat.fake import FakeWeChatServer  # noqa: E402

ADMIN = ("contract-admin", "contract-pass-1")


def add_job_runner(app) -> None:
    """`POST /_contract/jobs/<name>` runs one scheduled job now (as `flask jobs run-once`), for
    tests that need what a nightly job makes: the due care items, customer health."""
    from flask import jsonify

    from core import scheduler
    from core.extensions import csrf

    @app.post("/_contract/jobs/<name>")
    @csrf.exempt
    def run_job(name):
        job = next((j for j in scheduler.all_jobs() if j.name == name), None)
        if job is None:
            return jsonify({"error": {"code": "no_such_job", "message": name, "details": {}}}), 404
        return jsonify({"job": name, "result": scheduler.run_job(app, job)})


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="linli-contract-"))
    fake = FakeWeChatServer().start()
    app = create_app({
        "SECRET_KEY": "contract-secret", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'linli.db'}",
        "WECHAT_API_BASE": fake.url, "WECHAT_APPID": "wx_fake_appid", "WECHAT_SECRET": "fake_secret",
        "RATELIMIT_ENABLED": False, "UPLOAD_DIR": str(workdir / "uploads"), "LINLI_INSTANCE_DIR": str(workdir),
        # the mini-program's apiBase (src/config.js): the origin the API's absolute URLs name
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    })
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        accounts.create_staff(*ADMIN, {"admin"}, display_name="契约测试管理员")
        db.session.commit()
    add_job_runner(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # leaves serve_forever by an exception
    print(json.dumps({"api": f"http://127.0.0.1:{server.server_port}", "wechat": fake.url,
                      "admin": {"username": ADMIN[0], "password": ADMIN[1]}}), flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        fake.stop()


if __name__ == "__main__":
    os.environ.setdefault("LINLI_ENV", "development")
    main()

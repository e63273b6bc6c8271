"""`flask wechat-fake`: serve the fake WeChat API for local development."""

import click
from werkzeug.serving import run_simple

from core.wechat.fake import DEFAULT_APPID, DEFAULT_PAGES, DEFAULT_SECRET, create_fake_app


@click.command("wechat-fake")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5001, show_default=True, type=int, help="Port to listen on.")
@click.option("--appid", envvar="WECHAT_APPID", default=DEFAULT_APPID, show_default=True,
              help="AppID the fake accepts (env WECHAT_APPID).")
@click.option("--secret", envvar="WECHAT_SECRET", default=DEFAULT_SECRET,
              help="AppSecret the fake accepts (env WECHAT_SECRET).")
@click.option("--page", "pages", multiple=True, default=DEFAULT_PAGES, show_default=True,
              help="A published mini-program page (repeatable); the first is the home page.")
def wechat_fake_command(host, port, appid, secret, pages):
    """Serve a fake api.weixin.qq.com (state in memory, controls under /_fake/)."""
    app = create_fake_app(appid=appid, secret=secret, pages=pages)
    click.echo(f"Fake WeChat API for appid {appid} on http://{host}:{port}/ (see docs/wechat-fake.md)")
    run_simple(host, port, app, threaded=True)


COMMANDS = [wechat_fake_command]

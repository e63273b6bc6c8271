"""`flask demo`: migrate, load demo data, start the fake WeChat and serve the app."""
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from core.scheduler import Scheduler
from core.wechat.fake import FakeWeChatServer
from demo import activation as demo_activation, data


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--seed-only", is_flag=True, help="Migrate and load the demo data, then exit.")
@with_appcontext
def demo(host, port, seed_only):
    """Run the platform on its embedded defaults: SQLite, fake WeChat, demo data."""
    cfg = current_app.config
    if cfg["LINLI_ENV"] == "production":
        raise click.ClickException("flask demo refuses to run with LINLI_ENV=production")
    base = urlsplit(cfg["WECHAT_API_BASE"])
    if base.hostname not in ("127.0.0.1", "localhost"):
        raise click.ClickException(f"WECHAT_API_BASE is {cfg['WECHAT_API_BASE']}: the demo needs the fake WeChat")
    fake = FakeWeChatServer(appid=cfg["WECHAT_APPID"], secret=cfg["WECHAT_SECRET"])
    fake.start(port=base.port or 80)
    try:
        upgrade()
        if data.seed():
            click.echo("Demo data loaded.")
        if seed_only:
            return
        # WeChat DevTools' own login codes log in as a demo resident (docs/miniprogram.md).
        fake.state.devtools = {"openid": data.DEVTOOLS_RESIDENT, "phone": "13900000000"}
        click.echo(f"""
  邻里 Linli demo
  Console      http://{host}:{port}/login
    admin      {data.ADMIN[0]} / {data.ADMIN[1]}
    engineers  {', '.join(e[2] for e in data.ENGINEERS)} / {data.ENGINEER_PASSWORD}
    partner    {data.PARTNER_LOGIN[0]} / {data.PARTNER_LOGIN[1]}  ({demo_activation.PARTNER_NAME}: /partner/)
  API docs     http://{host}:{port}/api/docs
  Fake WeChat  {fake.url}  (controls: docs/wechat-fake.md)

  Mini-program (docs/miniprogram.md)
    WeChat DevTools → 导入项目 → the miniprogram/ folder (appid: 测试号 or your own)
    详情 → 本地设置 → tick 不校验合法域名; src/config.js apiBase must be http://{host}:{port}
    DevTools logs in as the demo resident {data.DEVTOOLS_RESIDENT}. Engineer mode instead (王建国):
      curl -s -X POST {fake.url}_fake/devtools -d '{{"openid":"{data.DEVTOOLS_ENGINEER}"}}'
    then 清缓存 → 全部清除 in DevTools, so it logs in again.
""")
        # The scheduled jobs run in this process for the demo (in production: `flask jobs run`).
        scheduler = Scheduler(current_app._get_current_object())
        scheduler.start_in_thread()
        try:
            # Not app.run(): Flask ignores it inside a CLI command.
            run_simple(host, port, current_app._get_current_object(), threaded=True)
        finally:
            scheduler.stop()
    finally:
        fake.stop()


COMMANDS = [demo]

"""WeChat's message push (消息推送): the URL WeChat calls with events, verified by signature.

GET answers the URL verification (echostr); POST carries one event as JSON, in plaintext mode
(`signature` over token, timestamp, nonce) or security mode (`encrypt_type=aes`, `msg_signature`
over the Encrypt field too, decrypted with the EncodingAESKey through wechatpy). Features
connect to `core.signals.wechat_event` for the event types they handle; the reply is
`success` whatever the receiver does with it, so WeChat does not retry a handled event.

A signature proves who sent a push, not when: an event is taken only with a `timestamp` within
WECHAT_PUSH_MAX_SKEW_SECONDS of our clock, and only once per (timestamp, nonce), remembered in
`wechat_kv` (shared by every process) until that timestamp leaves the window; a replay is a 403.
The nonce is recorded in the transaction that handles the event, so an event whose handling
failed is taken again when WeChat retries it. Plaintext mode's signature covers token, timestamp
and nonce but not the body, so whoever saw one push could send any body with its signature
inside the window: plaintext is refused when an EncodingAESKey is set, which production requires
(core/config.py). URL verification (GET) processes nothing and is not limited.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from core import signals
from core.db import insert_or_nothing
from core.extensions import csrf, db
from core.wechat.models import WeChatKV

log = logging.getLogger(__name__)
bp = Blueprint("wechat_push", __name__)
csrf.exempt(bp)  # WeChat signs its calls; there is no session and no form
NONCE_PREFIX = "push-nonce:"


def _now() -> float:
    return time.time()


def _refuse(why: str) -> Response:
    log.warning("wechat push refused: %s", why)
    return Response("invalid signature", status=403, mimetype="text/plain")


@bp.route("/wechat/push", methods=["GET"])
def verify_url():
    args = request.args
    try:
        check_signature(current_app.config["WECHAT_PUSH_TOKEN"], args.get("signature", ""),
                        args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        return _refuse("URL verification")
    return Response(args.get("echostr", ""), mimetype="text/plain")


def _event() -> dict | None:
    cfg, args = current_app.config, request.args
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if args.get("encrypt_type") == "aes":
        crypto = WeChatCrypto(cfg["WECHAT_PUSH_TOKEN"], cfg["WECHAT_PUSH_AES_KEY"], cfg["WECHAT_APPID"])
        plain = crypto.decrypt_message(body, args.get("msg_signature", ""), args.get("timestamp", ""),
                                       args.get("nonce", ""))
        body = json.loads(plain)
    else:
        check_signature(cfg["WECHAT_PUSH_TOKEN"], args.get("signature", ""), args.get("timestamp", ""),
                        args.get("nonce", ""))
    return body


def _stale(timestamp: str) -> bool:
    try:
        sent_at = int(timestamp)
    except ValueError:
        return True
    return abs(_now() - sent_at) > current_app.config["WECHAT_PUSH_MAX_SKEW_SECONDS"]


def _first_use(timestamp: str, nonce: str) -> bool:
    """Remember this (timestamp, nonce) until the timestamp is out of the window; False when it
    was seen before (also by another process: the insert waits for a concurrent one's commit)."""
    now = datetime.fromtimestamp(_now(), timezone.utc)
    db.session.execute(sa.delete(WeChatKV).where(WeChatKV.key.startswith(NONCE_PREFIX, autoescape=True),
                                                 WeChatKV.expires_at < now))
    until = datetime.fromtimestamp(int(timestamp) + current_app.config["WECHAT_PUSH_MAX_SKEW_SECONDS"] + 1,
                                   timezone.utc)
    return insert_or_nothing(WeChatKV, {"key": f"{NONCE_PREFIX}{int(timestamp)}:{nonce}", "value": "1",
                                        "expires_at": until}, ["key"]) is not None


@bp.route("/wechat/push", methods=["POST"])
def receive():
    cfg, args = current_app.config, request.args
    encrypted = args.get("encrypt_type") == "aes"
    if not encrypted and (cfg["WECHAT_PUSH_AES_KEY"] or cfg["LINLI_ENV"] == "production"):
        return _refuse("plaintext mode (its signature does not cover the body)")
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if _stale(timestamp):
        return _refuse(f"timestamp {timestamp[:20]!r} outside the window")
    if not 0 < len(nonce) <= 64:
        return _refuse("nonce")
    try:
        event = _event()
    except (InvalidSignatureException, InvalidAppIdException):
        return _refuse("event")
    if event is None:
        return Response("bad request", status=400, mimetype="text/plain")
    if not _first_use(timestamp, nonce):
        db.session.rollback()
        return _refuse("replayed nonce")
    signals.wechat_event.send(str(event.get("Event") or event.get("MsgType") or ""), event=event)
    db.session.commit()  # the nonce, with whatever a receiver did
    return Response("success", mimetype="text/plain")

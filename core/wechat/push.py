"""WeChat's message push (消息推送): the URL WeChat calls with events, verified by signature.

GET answers the URL verification (echostr); POST carries one event as JSON, in plaintext mode
(`signature` over token, timestamp, nonce) or security mode (`encrypt_type=aes`, `msg_signature`
over the Encrypt field too, decrypted with the EncodingAESKey through wechatpy). Features
connect to `core.signals.wechat_event` for the event types they handle; the reply is
`success` whatever the receiver does with it, so WeChat does not retry a handled event.
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, request
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from core import signals
from core.extensions import csrf, db

log = logging.getLogger(__name__)
bp = Blueprint("wechat_push", __name__)
csrf.exempt(bp)  # WeChat signs its calls; there is no session and no form
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


@bp.route("/wechat/push", methods=["POST"])
def receive():
    try:
        event = _event()
    except (InvalidSignatureException, InvalidAppIdException):
        return _refuse("event")
    if event is None:
        return Response("bad request", status=400, mimetype="text/plain")
    if signals.wechat_event.send(str(event.get("Event") or event.get("MsgType") or ""), event=event):
        db.session.commit()  # a receiver handled it
    return Response("success", mimetype="text/plain")

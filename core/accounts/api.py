"""Login, logout and the caller's own account."""

from core.accounts import services
from core.accounts.schemas import (
    OwnPasswordSchema,
    PasswordLoginSchema,
    PhoneCodeSchema,
    ProfileSchema,
    TokenSchema,
    UserSchema,
    WeChatLoginSchema,
)
from core.auth import auth_required, bearer_token, current_api_user, login_per_account, login_per_ip, rate_key_user
from core.blueprint import Blueprint
from core.extensions import limit_from, limiter
from core.idempotency import idempotent

bp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录与账号")


def token_response(user, kind):
    token, record = services.issue_token(user, kind)
    return {"token": token, "expires_at": record.expires_at, "user": user}


@bp.route("/auth/wechat-login", methods=["POST"])
@limiter.limit(limit_from("RATELIMIT_LOGIN_PER_IP"))
@bp.arguments(WeChatLoginSchema)
@bp.response(200, TokenSchema)
def wechat_login(body):
    """Exchange a wx.login code for a bearer token (the user is created on first login)"""
    return token_response(services.login_with_wechat(body["code"]), "wechat")


@bp.route("/auth/password-login", methods=["POST"])
@login_per_ip
@login_per_account
@bp.arguments(PasswordLoginSchema)
@bp.response(200, TokenSchema)
def password_login(body):
    """Staff (admin, agent, engineer) bearer token from username and password"""
    return token_response(services.authenticate_password(body["username"], body["password"]), "password")


@bp.route("/auth/logout", methods=["POST"])
@auth_required()
@bp.response(204)
def logout():
    """Revoke the token this request carries"""
    services.revoke_token(bearer_token())


@bp.route("/me")
@auth_required()
@bp.response(200, UserSchema)
def me():
    """The caller's account"""
    return current_api_user()


@bp.route("/me", methods=["PUT"])
@auth_required()
@bp.arguments(ProfileSchema)
@bp.response(200, UserSchema)
def update_me(body):
    """Set my nickname and avatar (only the fields sent change)

    `display_name`: 1–20 characters after trimming, checked by WeChat's text security as a
    profile: refused when WeChat finds it risky (409 content_risky), kept otherwise (also when
    WeChat cannot check it). `avatar`: the name of an image I uploaded; null removes it.
    """
    return services.update_profile(current_api_user(), body)


@bp.route("/me/phone", methods=["POST"])
@limiter.limit(limit_from("RATELIMIT_LOGIN_PER_ACCOUNT"), key_func=rate_key_user)
@auth_required()
@idempotent
@bp.arguments(PhoneCodeSchema)
@bp.response(200, UserSchema)
def confirm_phone(body):
    """Set my phone number from the getPhoneNumber button's code (WeChat confirms it)

    An invalid, expired or already used code is 400 phone_code_invalid: tap the button again.
    """
    return services.confirm_phone(current_api_user(), body["code"])


@bp.route("/me/password", methods=["PUT"])
@login_per_account
@auth_required("engineer", "agent", "admin")
@bp.arguments(OwnPasswordSchema)
@bp.response(204)
def set_my_password(body):
    """Set the caller's web-console password (staff only)

    With a password set, `current_password` is required (422 current_password when wrong); a
    first password needs `wechat_code`, a fresh wx.login code of the caller's own WeChat account.
    Every other token and web session of the caller ends; this request's token stays valid.
    Wrong current passwords count against the same per-account limit as the logins.
    """
    services.change_own_password(current_api_user(), body["password"], current_password=body.get("current_password"),
                                 wechat_code=body.get("wechat_code"), keep_token=bearer_token())

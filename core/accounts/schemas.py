import marshmallow as ma
from marshmallow import fields, validate

from core.schemas import upload_url


class WeChatLoginSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Length(1, 128),
                         metadata={"description": "the code from wx.login()"})


class PasswordLoginSchema(ma.Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256), load_only=True)


class PasswordSchema(ma.Schema):
    password = fields.String(required=True, validate=validate.Length(1, 256), load_only=True)


class OwnPasswordSchema(PasswordSchema):
    """PUT /me/password: the new password and proof that the caller is the account's owner."""
    current_password = fields.String(validate=validate.Length(1, 256), load_only=True, metadata={
        "description": "required when a password is already set"})
    wechat_code = fields.String(validate=validate.Length(1, 128), load_only=True, metadata={
        "description": "for a first password: a fresh wx.login code of the same WeChat account"})


class UserSchema(ma.Schema):
    """A user as they see themselves (and as admins see them): the phone in full."""
    id = fields.Integer()
    display_name = fields.String()
    avatar_url = fields.Function(lambda user: upload_url(user.avatar), metadata={
        "description": "null, or the path of the avatar image (/api/v1/uploads/<name>)"})
    phone = fields.String(allow_none=True)
    phone_confirmed = fields.Function(lambda user: user.phone_confirmed_at is not None, metadata={
        "description": "true when WeChat confirmed the phone (the getPhoneNumber button)"})
    username = fields.String(allow_none=True)
    has_password = fields.Function(lambda user: user.password_hash is not None, metadata={
        "description": "true when a web-console password is set (changing it asks for the current one)"})
    roles = fields.Method("dump_roles")
    created_at = fields.DateTime()

    def dump_roles(self, user):
        return sorted(user.roles)


class ProfileSchema(ma.Schema):
    """PUT /me: only the fields sent change."""
    display_name = fields.String(validate=validate.Length(max=100), metadata={
        "description": "the nickname from WeChat's type=\"nickname\" input: 1–20 characters after trimming"})
    avatar = fields.String(allow_none=True, validate=validate.Length(1, 48), metadata={
        "description": "the name of an image I uploaded (POST /api/v1/uploads), e.g. from chooseAvatar; null removes it"})


class PhoneCodeSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Length(1, 128),
                         metadata={"description": "e.detail.code of the getPhoneNumber button (not a wx.login code)"})


class TokenSchema(ma.Schema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)

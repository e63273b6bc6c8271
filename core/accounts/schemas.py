import marshmallow as ma
from marshmallow import fields, validate


class WeChatLoginSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Length(1, 128),
                         metadata={"description": "the code from wx.login()"})


class PasswordLoginSchema(ma.Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256), load_only=True)


class PasswordSchema(ma.Schema):
    password = fields.String(required=True, validate=validate.Length(1, 256), load_only=True)


class UserSchema(ma.Schema):
    id = fields.Integer()
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    username = fields.String(allow_none=True)
    roles = fields.Method("dump_roles")
    created_at = fields.DateTime()

    def dump_roles(self, user):
        return sorted(user.roles)


class TokenSchema(ma.Schema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)

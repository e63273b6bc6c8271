"""The libraries' built-in validation messages in Simplified Chinese: marshmallow's (every field
and validator of the API) and WTForms'/Flask-WTF's (every console form), in one place, so a
schema or form written without its own messages still answers in Chinese.

Fields collect their messages when they are created, that is when a schema class is defined; so
this module runs first, from core/__init__.py, before any schema exists. A schema's own message
(`error=` / `error_messages=`) still wins over these; likewise a form validator's `message=`.
"""
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from marshmallow import Schema, fields, validate
from wtforms import ValidationError
from wtforms.i18n import get_translations

FIELD_MESSAGES = {
    fields.Field: {"required": "必填", "null": "不能为空", "validator_failed": "取值无效"},
    fields.String: {"invalid": "应为文字", "invalid_utf8": "含有无效字符"},
    fields.Number: {"invalid": "应为数字", "too_large": "数字过大"},
    fields.Integer: {"invalid": "应为整数"},
    fields.Decimal: {"special": "不是有效的数字"},
    fields.Float: {"special": "不是有效的数字"},
    fields.Boolean: {"invalid": "应为是或否（true/false）"},
    fields.DateTime: {"invalid": "时间格式不对，例如 2026-12-05T09:30:00+08:00", "format": "时间格式不对",
                      "invalid_awareness": "时间格式不对"},
    fields.NaiveDateTime: {"invalid_awareness": "时间不应带时区"},
    fields.AwareDateTime: {"invalid_awareness": "时间应带时区，例如 +08:00"},
    fields.Date: {"invalid": "日期格式不对，例如 2026-12-05", "format": "日期格式不对", "invalid_awareness": "日期格式不对"},
    fields.Time: {"invalid": "时间格式不对，例如 09:30", "format": "时间格式不对", "invalid_awareness": "时间格式不对"},
    fields.TimeDelta: {"invalid": "时长格式不对", "format": "时长格式不对"},
    fields.List: {"invalid": "应为列表"},
    fields.Tuple: {"invalid": "应为列表"},
    fields.Mapping: {"invalid": "应为对象"},
    fields.Nested: {"type": "应为对象"},
    fields.Email: {"invalid": "邮箱格式不对"},
    fields.URL: {"invalid": "网址格式不对"},
    fields.UUID: {"invalid_uuid": "格式不对"},
    fields.IP: {"invalid_ip": "IP 地址格式不对"},
    fields.Enum: {"unknown": "应为以下之一：{choices}"},
}

VALIDATOR_MESSAGES = {
    validate.Length: {"message_min": "至少 {min} 个字", "message_max": "最多 {max} 个字",
                      "message_all": "应为 {min} 到 {max} 个字", "message_equal": "应为 {equal} 个字"},
    validate.Range: {"message_min": "应{min_op} {{min}}", "message_max": "应{max_op} {{max}}",
                     "message_all": "应在 {{min}} 到 {{max}} 之间",
                     "message_gte": "大于或等于", "message_gt": "大于", "message_lte": "小于或等于", "message_lt": "小于"},
    validate.OneOf: {"default_message": "应为以下之一：{choices}"},
    validate.NoneOf: {"default_message": "取值无效"},
    validate.ContainsOnly: {"default_message": "含有不允许的选项"},
    validate.ContainsNoneOf: {"default_message": "含有不允许的选项"},
    validate.Equal: {"default_message": "取值不对"},
    validate.Regexp: {"default_message": "格式不对"},
    validate.Email: {"default_message": "邮箱格式不对"},
    validate.URL: {"default_message": "网址格式不对"},
    validate.Predicate: {"default_message": "取值无效"},
}

SCHEMA_MESSAGES = {"type": "应为 JSON 对象", "unknown": "不认识的字段"}


def use_chinese_messages() -> None:
    for field, messages in FIELD_MESSAGES.items():
        field.default_error_messages = {**field.__dict__.get("default_error_messages", {}), **messages}
    for validator, messages in VALIDATOR_MESSAGES.items():
        for name, text in messages.items():
            setattr(validator, name, text)
    Schema._default_error_messages = {**Schema._default_error_messages, **SCHEMA_MESSAGES}


# -- WTForms and Flask-WTF ----------------------------------------------------------------------
# WTForms asks the form's Meta for a translations object and passes every built-in message through
# it; Flask-WTF's Meta would ask Flask-Babel, which we do not use. Ours answers from this table,
# worded like the API's, then from WTForms' own zh catalogue, then leaves the text as it is.

FORM_MESSAGES = {
    "This field is required.": "请填写此项",
    "Invalid input.": "格式不对",
    "Not a valid integer value.": "请输入整数",
    "Not a valid decimal value.": "请输入数字",
    "Not a valid float value.": "请输入数字",
    "Not a valid date value.": "请输入日期，例如 2026-12-31",
    "Not a valid datetime value.": "请输入日期和时间，例如 2026-12-31 18:00",
    "Not a valid time value.": "请输入时间，例如 09:30",
    "Not a valid week value.": "请输入周，例如 2026-W05",
    "Not a valid choice.": "请从列表中选择",
    "Invalid Choice: could not coerce.": "请从列表中选择",
    "Invalid choice(s): one or more data inputs could not be coerced.": "请从列表中选择",
    "'%(value)s' is not a valid choice for this field.": "“%(value)s”不是可选的选项",
    "Choices cannot be None.": "没有可选的选项",
    "Field must be at least %(min)d character long.": "至少 %(min)d 个字",
    "Field cannot be longer than %(max)d character.": "最多 %(max)d 个字",
    "Field must be exactly %(max)d character long.": "应为 %(max)d 个字",
    "Field must be between %(min)d and %(max)d characters long.": "应为 %(min)d 到 %(max)d 个字",
    "Number must be at least %(min)s.": "不能小于 %(min)s",
    "Number must be at most %(max)s.": "不能大于 %(max)s",
    "Number must be between %(min)s and %(max)s.": "应在 %(min)s 到 %(max)s 之间",
    "Date must be at least %(min)s.": "不能早于 %(min)s",
    "Date must be at most %(max)s.": "不能晚于 %(max)s",
    "Date must be between %(min)s and %(max)s.": "应在 %(min)s 到 %(max)s 之间",
    "Field must be equal to %(other_name)s.": "与“%(other_name)s”不一致",
    "Invalid email address.": "邮箱格式不对",
    "Invalid URL.": "网址格式不对",
    "Invalid IP address.": "IP 地址格式不对",
    "Invalid Mac address.": "MAC 地址格式不对",
    "Invalid UUID.": "格式不对",
    "Invalid value, must be one of: %(values)s.": "应为以下之一：%(values)s",
    "Invalid value, can't be any of: %(values)s.": "不能是以下任何一个：%(values)s",
    "This field cannot be edited.": "此项不能修改",
    "This field is disabled and cannot have a value.": "此项已停用，不能填写",
    "Invalid CSRF Token.": "页面已过期，请刷新后重试",
    "CSRF token missing.": "页面已过期，请刷新后重试",
    "CSRF failed.": "页面已过期，请刷新后重试",
    "CSRF token expired.": "页面已过期，请刷新后重试",
}
# Flask-WTF raises its CSRF messages without a translation step.
CSRF_MESSAGE = "页面已过期或来源无效，请刷新后重试"


class ChineseTranslations:
    """The translations object of every form (WTForms' gettext/ngettext protocol)."""

    def __init__(self):
        self.catalogue = get_translations(["zh"])

    def gettext(self, string: str) -> str:
        return FORM_MESSAGES.get(string) or self.catalogue.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return FORM_MESSAGES.get(singular) or self.catalogue.ngettext(singular, plural, n)


FORM_TRANSLATIONS = ChineseTranslations()


class ChineseCSRF(_FlaskFormCSRF):
    """A form's own CSRF check (pages outside CSRFProtect, e.g. tests or exempt views), in Chinese."""

    def validate_csrf_token(self, form, field):
        try:
            super().validate_csrf_token(form, field)
        except ValidationError as exc:
            raise ValidationError(CSRF_MESSAGE) from exc


def _form_translations(meta, form):
    return FORM_TRANSLATIONS


def use_chinese_form_messages() -> None:
    """Every FlaskForm (their Meta classes inherit FlaskForm.Meta) speaks Chinese."""
    FlaskForm.Meta.get_translations = _form_translations
    FlaskForm.Meta.csrf_class = ChineseCSRF


use_chinese_messages()
use_chinese_form_messages()

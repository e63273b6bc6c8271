"""Marshmallow's built-in messages in Simplified Chinese, for every field and validator.

Fields collect their messages when they are created, that is when a schema class is defined; so
this module runs first, from core/__init__.py, before any schema exists. A schema's own message
(`error=` / `error_messages=`) still wins over these.
"""
from marshmallow import Schema, fields, validate

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


use_chinese_messages()

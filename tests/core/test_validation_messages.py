"""Every message a schema can answer with is Chinese: marshmallow's own (core.validation) and
each schema's overrides, in every area's schemas, api and admin_api modules."""
import re

from marshmallow import Schema, fields, validate

from core import area_modules
from core.validation import use_chinese_messages

CJK = re.compile(r"[\u4e00-\u9fff]")


def schema_classes():
    seen = {}
    for kind in ("schemas", "api", "admin_api"):
        for module in area_modules(kind):
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, Schema) and value.__module__ == module.__name__:
                    seen[f"{value.__module__}.{value.__name__}"] = value
    return seen


def messages_of(field: fields.Field):
    yield from field.error_messages.items()
    for validator in field.validators:
        if getattr(validator, "error", None):
            yield type(validator).__name__, validator.error
        elif isinstance(validator, validate.Length):
            yield "Length", validator.message_max if validator.max is not None else validator.message_min
        elif isinstance(validator, validate.Range):
            yield "Range", validator.message_all
        elif isinstance(validator, (validate.OneOf, validate.Regexp, validate.Email, validate.URL)):
            yield type(validator).__name__, validator.default_message
    inner = getattr(field, "inner", None)
    if inner is not None:
        yield from messages_of(inner)


def test_every_field_message_is_chinese():
    english = []
    classes = schema_classes()
    assert len(classes) > 100
    for name, cls in classes.items():
        try:
            schema = cls()
        except TypeError:  # a schema that needs arguments (generated pages): checked where used
            continue
        for field_name, field in schema.fields.items():
            for key, message in messages_of(field):
                if isinstance(message, str) and not CJK.search(message):
                    english.append(f"{name}.{field_name} [{key}]: {message}")
    assert not english, "\n".join(english)


def test_the_builtin_messages_a_client_sees(client, login):
    resident = login()
    response = client.post("/api/v1/me/addresses", headers=resident.headers, json={
        "estate_id": "x", "building": "1" * 300, "surprise": 1})
    assert response.status_code == 422
    fields_ = response.json["error"]["details"]["fields"]
    assert all(CJK.search(m) for messages in fields_.values() for m in messages), fields_


def test_applying_twice_changes_nothing():
    before = dict(fields.Integer.default_error_messages)
    use_chinese_messages()
    assert fields.Integer.default_error_messages == before
    assert validate.Length.message_max == "最多 {max} 个字"

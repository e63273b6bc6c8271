"""Product models, maintenance plans, product archives and serial conflicts: request validation
and response shapes. The services check every rule again (the pages and imports share them)."""
import marshmallow as ma
from marshmallow import fields, validate

from community.products.models import CATEGORIES, PRODUCT_STATUSES
from community.products.services import CONFLICT_DECISIONS, SOURCE_LABELS
from community.service_types import SERVICE_TYPES
from core.pagination import PageArgsSchema
from core.schemas import id_field, upload_url

_CODE = validate.Regexp(r"^\s*[\x21-\x7e]{1,64}\s*$", error="只能是不含空格的英文字母、数字和符号")

# -- the catalogue ------------------------------------------------------------------------------


class ProductModelSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    category = fields.String()
    category_label = fields.Function(lambda m: CATEGORIES.get(m.category, m.category))
    image = fields.String(allow_none=True, metadata={"description": "the upload's name"})
    image_url = fields.Function(lambda m: upload_url(m.image), metadata={"type": "string", "nullable": True})
    warranty_months = fields.Integer()
    active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProductModelWriteSchema(ma.Schema):
    code = fields.String(required=True, validate=[validate.Length(1, 80), _CODE],
                         metadata={"description": "the nameplate's model code; stored upper-case, unique"})
    name = fields.String(required=True, validate=validate.Length(1, 128))
    category = fields.String(required=True, validate=validate.OneOf(list(CATEGORIES)))
    warranty_months = fields.Integer(load_default=12, validate=validate.Range(0, 240))
    image = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 48),
                          metadata={"description": "an upload's name (POST /api/v1/uploads first)"})
    active = fields.Boolean(load_default=True)


class ProductModelPatchSchema(ProductModelWriteSchema):
    """Every field optional: only the fields sent change."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class ProductModelQueryArgsSchema(PageArgsSchema):
    q = fields.String(validate=validate.Length(max=64), metadata={"description": "code or name contains"})
    category = fields.String(validate=validate.OneOf(list(CATEGORIES)))
    active = fields.Boolean()


class MaintenancePlanSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    category = fields.String(allow_none=True)
    category_label = fields.Function(lambda p: CATEGORIES.get(p.category) if p.category else None)
    product_model_id = fields.Integer(allow_none=True)
    service_type = fields.String()
    service_type_label = fields.Function(lambda p: SERVICE_TYPES.get(p.service_type, p.service_type))
    first_due_days = fields.Integer()
    interval_months = fields.Integer(allow_none=True, metadata={"description": "null: once only"})
    after_completion = fields.Boolean()
    season_start_month = fields.Integer(allow_none=True)
    season_end_month = fields.Integer(allow_none=True)
    lead_days = fields.Integer()
    description = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class MaintenancePlanWriteSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(1, 64))
    category = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(list(CATEGORIES)),
                             metadata={"description": "a whole category's plan (or product_model_id, not both)"})
    product_model_id = id_field(load_default=None, allow_none=True,
                                metadata={"description": "one model's plan: replaces its category's plans of the type"})
    service_type = fields.String(required=True, validate=validate.OneOf(list(SERVICE_TYPES)))
    first_due_days = fields.Integer(required=True, validate=validate.Range(0, 3650),
                                    metadata={"description": "days after installation of the first due date"})
    interval_months = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 120),
                                     metadata={"description": "then every N months; null: once only"})
    after_completion = fields.Boolean(load_default=True, metadata={
        "description": "count the next due date from the last completed service (else from the previous due date)"})
    season_start_month = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 12))
    season_end_month = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 12),
                                      metadata={"description": "the window may wrap the year (11 to 2)"})
    lead_days = fields.Integer(load_default=14, validate=validate.Range(0, 90),
                               metadata={"description": "how many days ahead the household hears of it"})
    description = fields.String(load_default="", validate=validate.Length(max=500))
    active = fields.Boolean(load_default=True)


class MaintenancePlanPatchSchema(MaintenancePlanWriteSchema):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class MaintenancePlanQueryArgsSchema(PageArgsSchema):
    category = fields.String(validate=validate.OneOf(list(CATEGORIES)))
    product_model_id = id_field()
    active = fields.Boolean()


class RescheduledSchema(ma.Schema):
    plan = fields.Nested(MaintenancePlanSchema)


# -- the archive ----------------------------------------------------------------------------------


class ProductModelBriefSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    category = fields.String()
    category_label = fields.String()
    image_url = fields.Function(lambda m: upload_url(m["image"]), metadata={"type": "string", "nullable": True})
    warranty_months = fields.Integer()


class NextCareSchema(ma.Schema):
    due_on = fields.Date()
    plan_id = fields.Integer()
    plan_name = fields.String()
    service_type = fields.String()
    service_type_label = fields.String()
    overdue = fields.Boolean()
    days_left = fields.Integer(metadata={"description": "negative when overdue"})


class InstallerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class ProductSchema(ma.Schema):
    id = fields.Integer()
    serial = fields.String()
    status = fields.String(metadata={"description": "active, retired or transferred"})
    status_label = fields.String()
    source = fields.String()
    source_label = fields.Function(lambda p: SOURCE_LABELS.get(p["source"], p["source"]))
    model = fields.Nested(ProductModelBriefSchema)
    install_date = fields.Date(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    warranty_end = fields.Date(allow_none=True, metadata={
        "description": "(purchase date, else install date) + the model's warranty months"})
    in_warranty = fields.Boolean()
    warranty_days_left = fields.Integer(metadata={"description": "0 when out of warranty"})
    owner_id = fields.Integer(allow_none=True)
    estate_id = fields.Integer(allow_none=True)
    estate_name = fields.String(allow_none=True)
    address_id = fields.Integer(allow_none=True)
    address = fields.String()
    installer = fields.Nested(InstallerSchema, allow_none=True)
    next_care = fields.Nested(NextCareSchema, allow_none=True, metadata={
        "description": "the earliest due care of its maintenance plans (null: nothing scheduled)"})
    created_at = fields.DateTime()


class ProductQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default="active", validate=validate.OneOf([*PRODUCT_STATUSES, "all"]),
                           metadata={"description": "active (default), retired, transferred or all"})


class ProductRegisterSchema(ma.Schema):
    """A resident's registration (the serial typed or scanned)."""
    model_id = id_field(load_default=None, allow_none=True)
    model_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 80),
                               metadata={"description": "the nameplate's model code (or model_id)"})
    serial = fields.String(required=True, validate=validate.Length(1, 80),
                           metadata={"description": "stored trimmed and upper-case"})
    install_date = fields.Date(load_default=None, allow_none=True)
    purchase_date = fields.Date(load_default=None, allow_none=True)
    address_id = id_field(load_default=None, allow_none=True, metadata={"description": "an address of the owner's book"})
    estate_id = id_field(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))

    @ma.validates_schema
    def _a_model(self, data, **kwargs):
        if data.get("model_id") is None and not (data.get("model_code") or "").strip():
            raise ma.ValidationError({"model_code": ["请选择型号或填写型号编码"]})


class CustomerProductRegisterSchema(ProductRegisterSchema):
    """The steward's registration at a visit: the estate is the binding's unless an address of
    the customer's book is chosen."""
    estate_id = fields.Constant(None, dump_only=True)


class ProductUpdateSchema(ma.Schema):
    install_date = fields.Date(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    address_id = id_field(allow_none=True)
    estate_id = id_field(allow_none=True)
    address = fields.String(allow_none=True, validate=validate.Length(max=255))


class InstallationMessageSchema(ma.Schema):
    """One installation record from the manufacturer's system (the columns of `flask products import`)."""
    external_id = fields.String(required=True, validate=[
        validate.Length(1, 64), validate.Regexp(r"^[\x21-\x7e]+$", error="只能是不含空格的英文字母、数字和符号")])
    model_code = fields.String(required=True, validate=validate.Length(1, 80))
    serial = fields.String(required=True, validate=validate.Length(1, 80))
    owner_phone = fields.String(required=True, validate=validate.Length(1, 20))
    install_date = fields.Date(load_default=None, allow_none=True)
    purchase_date = fields.Date(load_default=None, allow_none=True)
    estate_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    engineer_employee_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class InstallationReceivedSchema(ma.Schema):
    product = fields.Nested(ProductSchema)
    created = fields.Boolean(metadata={"description": "false: on record already (same external_id or same owner)"})


# -- serial conflicts -----------------------------------------------------------------------------


class ConflictProductSchema(ma.Schema):
    id = fields.Integer()
    model_code = fields.String()
    model_name = fields.String()
    serial = fields.String()
    status = fields.String()
    install_date = fields.Date(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    owner_name = fields.String(allow_none=True)
    owner_phone = fields.String(allow_none=True)
    estate_name = fields.String(allow_none=True)
    address = fields.String()


class ClaimantSchema(ma.Schema):
    id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class SerialConflictSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String()
    resolution = fields.String(allow_none=True, metadata={"description": "kept, moved or rejected"})
    resolution_label = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    source = fields.String()
    source_label = fields.String()
    product = fields.Nested(ConflictProductSchema)
    claimant = fields.Nested(ClaimantSchema)
    claim = fields.Dict(metadata={"description": "what the claimant submitted"})
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by_id = fields.Integer(allow_none=True)


class ConflictQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "resolved"]))


class ConflictResolveSchema(ma.Schema):
    decision = fields.String(required=True, validate=validate.OneOf(list(CONFLICT_DECISIONS)), metadata={
        "description": "keep (the owner on record keeps it), move (to the claimant), reject (the claim is void)"})
    note = fields.String(load_default="", validate=validate.Length(max=500))



class ProductScheduleSchema(ma.Schema):
    plan_id = fields.Integer()
    plan_name = fields.String()
    service_type = fields.String()
    service_type_label = fields.String()
    description = fields.String()
    next_due_on = fields.Date(allow_none=True, metadata={"description": "null: nothing more is due"})
    last_done_on = fields.Date(allow_none=True)


class ProductDetailSchema(ProductSchema):
    schedules = fields.List(fields.Nested(ProductScheduleSchema), metadata={
        "description": "every maintenance plan that applies, soonest first"})


class CatalogueQueryArgsSchema(PageArgsSchema):
    q = fields.String(validate=validate.Length(max=64), metadata={"description": "code or name contains"})
    category = fields.String(validate=validate.OneOf(list(CATEGORIES)))

"""What residents see of a partner's listing, and the partner's audience and dashboard."""
import marshmallow as ma
from marshmallow import fields

from activation.partners.schemas import PartnerSchema


class ListingPartnerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    category = fields.String()
    description = fields.String()
    logo = fields.String(allow_none=True)


class MyLeadBriefSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "new | contacted | closed"})
    created_at = fields.DateTime()


class ResidentListingSchema(ma.Schema):
    """A partner's announcement or service as a resident sees it."""
    id = fields.Integer()
    kind = fields.String(metadata={"description": "announcement | service"})
    title = fields.String()
    body = fields.String()
    photos = fields.List(fields.String())
    price_fen = fields.Integer(allow_none=True, metadata={"description": "null: priced on request"})
    price_note = fields.String()
    signup_mode = fields.String(metadata={"description": "platform: POST .../leads; link: open link_url; none"})
    link_url = fields.String(allow_none=True)
    partner = fields.Nested(ListingPartnerSchema)
    estate_id = fields.Integer(allow_none=True, metadata={"description": "the estate of mine it is offered in"})
    my_lead = fields.Nested(MyLeadBriefSchema, allow_none=True, metadata={"description": "my sign-up, or null"})


class LeadCreateSchema(ma.Schema):
    contact_name = fields.String(load_default="", validate=ma.validate.Length(max=32))
    contact_phone = fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=20),
                                  metadata={"description": "a mainland mobile; defaults to my WeChat-confirmed phone"})
    note = fields.String(load_default="", validate=ma.validate.Length(max=500))


class SignupSchema(ma.Schema):
    """My sign-up, as I made it."""
    id = fields.Integer()
    listing_id = fields.Integer()
    status = fields.String(metadata={"description": "new | contacted | closed"})
    contact_name = fields.String()
    contact_phone = fields.String()
    note = fields.String()
    created_at = fields.DateTime()


class CouponHolderSchema(ma.Schema):
    id = fields.Integer(metadata={"description": "the coupon"})
    template_id = fields.Integer()
    template_name = fields.String()
    status = fields.String()
    holder = fields.String(metadata={"description": "masked name"})
    estate_name = fields.String(allow_none=True)
    issued_at = fields.DateTime()
    used_at = fields.DateTime(allow_none=True)


class ActivitySignupBriefSchema(ma.Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    activity_title = fields.String()
    status = fields.String(metadata={"description": "confirmed | waitlisted | cancelled"})
    contact_name = fields.String()
    contact_phone = fields.String(allow_none=True)
    estate_name = fields.String(allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class PartnerOrderSchema(ma.Schema):
    id = fields.Integer()
    external_id = fields.String()
    status = fields.String(metadata={"description": "paid | refunded"})
    amount_fen = fields.Integer()
    paid_at = fields.DateTime()
    refunded_at = fields.DateTime(allow_none=True)


class ReachFiguresSchema(ma.Schema):
    live_offers = fields.Integer()
    estates = fields.Integer(metadata={"description": "distinct estates the live offers match"})
    households = fields.Integer(metadata={"description": "households of those estates"})


class ActivityFiguresSchema(ma.Schema):
    count = fields.Integer()
    confirmed = fields.Integer()
    waitlisted = fields.Integer()
    checked_in = fields.Integer()


class CouponFiguresSchema(ma.Schema):
    templates = fields.Integer()
    issued = fields.Integer()
    used = fields.Integer()


class OrderFiguresSchema(ma.Schema):
    paid = fields.Integer()
    paid_amount_fen = fields.Integer()
    refunded = fields.Integer()


class DashboardSchema(ma.Schema):
    partner = fields.Nested(PartnerSchema)
    reach = fields.Nested(ReachFiguresSchema)
    listings = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "per status"})
    leads = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "per status"})
    activities = fields.Nested(ActivityFiguresSchema)
    coupons = fields.Nested(CouponFiguresSchema)
    orders = fields.Nested(OrderFiguresSchema)

"""Product archives: the resident's own appliances, the steward's registration at a visit and
view of a customer's appliances, the catalogue picker, and the manufacturer's installation
records (signed)."""
from community.products import services
from community.products.schemas import (
    CatalogueQueryArgsSchema,
    CustomerProductRegisterSchema,
    InstallationMessageSchema,
    InstallationReceivedSchema,
    ProductDetailSchema,
    ProductModelSchema,
    ProductQueryArgsSchema,
    ProductRegisterSchema,
    ProductSchema,
    ProductUpdateSchema,
)
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.extensions import db
from core.integrations import signed
from core.pagination import page_schema

bp = Blueprint("community_products", __name__, url_prefix="/api/v1", description="产品档案")


def _registered(registration: services.Registration):
    """A registration's answer: the product (201 new, 200 on record already), or the claimant's
    409. The conflict row is the point of that refusal, so it is committed before the 409
    (the API boundary rolls an error response back)."""
    if registration.conflict is not None:
        error = services.conflict_error(registration.conflict)
        db.session.commit()
        raise error
    return services.product_cards([registration.product])[0], 201 if registration.created else 200


def _status(args: dict) -> dict:
    return {**args, "status": None if args["status"] == "all" else args["status"]}


@bp.route("/product-models")
@auth_required()
@bp.arguments(CatalogueQueryArgsSchema, location="query")
@bp.response(200, page_schema(ProductModelSchema))
def catalogue(args):
    """The product models on offer, by code (filter by code or name, and category)"""
    return services.list_product_models(**args, active=True)


@bp.route("/me/products")
@auth_required()
@bp.arguments(ProductQueryArgsSchema, location="query")
@bp.response(200, page_schema(ProductSchema))
def my_products(args):
    """My appliances, newest first, each with its warranty and its next due care"""
    return services.card_page(services.products_of_owner(current_principal().id, **_status(args)))


@bp.route("/me/products", methods=["POST"])
@auth_required()
@bp.arguments(ProductRegisterSchema)
@bp.response(201, ProductSchema)
@bp.alt_response(200, schema=ProductSchema, description="on record already for me: the same product, unchanged")
@bp.alt_response(409, description="serial_conflict: the serial is on record for another household; an agent checks it")
def register(body):
    """Register one of my appliances (e.g. after scanning its serial)

    The model by `model_id` or `model_code`; the place by `address_id` (my address book) or an
    estate I live in and an address. Registering the same serial again returns it (200). A serial
    on record for another household is never moved: an agent checks it (409 serial_conflict).
    """
    return _registered(services.register_own(current_api_user(), body))


@bp.route("/me/products/<int:product_id>")
@auth_required()
@bp.response(200, ProductDetailSchema)
def my_product(product_id):
    """One of my appliances with every maintenance plan that applies and when each is due"""
    product = services.own_product(current_principal().id, product_id)
    return {**services.product_cards([product])[0], "schedules": services.schedules_of(product.id)}


@bp.route("/me/products/<int:product_id>", methods=["POST"])
@auth_required()
@bp.arguments(ProductUpdateSchema)
@bp.response(200, ProductSchema)
def update_my_product(body, product_id):
    """Correct the dates or the place of one of my appliances in use (only the fields sent change;
    the warranty end and the care schedule follow the dates)"""
    product = services.update_own_product(current_api_user(), product_id, body)
    return services.product_cards([product])[0]


@bp.route("/me/products/<int:product_id>/retire", methods=["POST"])
@auth_required()
@bp.response(200, ProductSchema)
def retire_my_product(product_id):
    """I no longer use this appliance: it stays on record as retired and no more care is due"""
    return services.product_cards([services.retire_product(current_api_user(), product_id)])[0]


@bp.route("/engineer/customers/<int:user_id>/products")
@auth_required("engineer", "admin", "agent")
@bp.arguments(ProductQueryArgsSchema, location="query")
@bp.response(200, page_schema(ProductSchema))
def customer_products(args, user_id):
    """A customer's appliances: for their steward (anyone else's customer is a 404), admins and agents"""
    return services.card_page(services.customer_products(current_principal(), user_id, **_status(args)))


@bp.route("/engineer/customers/<int:user_id>/products", methods=["POST"])
@auth_required("engineer")
@bp.arguments(CustomerProductRegisterSchema)
@bp.response(201, ProductSchema)
@bp.alt_response(200, schema=ProductSchema, description="on record already for this customer: unchanged")
@bp.alt_response(409, description="serial_conflict: the serial is on record for another household")
def register_for_customer(body, user_id):
    """Register an appliance of one of my customers at a visit (I am its installer; the estate is
    the binding's unless an address of the customer's book is chosen)"""
    return _registered(services.register_for_customer(current_principal(), user_id, body))


@bp.route("/integrations/installations", methods=["POST"])
@signed
@bp.arguments(InstallationMessageSchema)
@bp.response(200, InstallationReceivedSchema)
@bp.alt_response(409, description="serial_conflict: the serial is on record for another household")
def receive_installation(body):
    """Receive one installation record from the manufacturer's system (HMAC-signed like the order integration)

    Idempotent by `external_id`. The owner is the account with `owner_phone`; without one the
    phone is kept and the product becomes theirs when someone confirms that phone. The estate by
    its code, the installer by employee number. A serial on record for another household is a
    conflict for an agent (409, recorded once).
    """
    registration = services.receive_installation(body)
    product, status = _registered(registration)
    return {"product": product, "created": status == 201}

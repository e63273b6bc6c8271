"""Image uploads for the mini-program (feed photos, reviews, task proof)."""
from flask import current_app, request, send_file
from marshmallow import Schema, fields

from core.auth import auth_required, current_principal, rate_key_user
from core.blueprint import Blueprint
from core.errors import APIError, ValidationFailed
from core.extensions import limit_from, limiter
from core.schemas import upload_url
from core.uploads import services

bp = Blueprint("uploads", __name__, url_prefix="/api/v1", description="图片上传")

class UploadSchema(Schema):
    id = fields.String(attribute="name", metadata={"description": "the image's public name"})
    url = fields.Method("_url")
    content_type = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    size = fields.Integer(metadata={"description": "bytes stored after re-encoding"})
    created_at = fields.DateTime()

    def _url(self, upload):
        return upload_url(upload.name)


@bp.route("/uploads", methods=["POST"])
@limiter.limit(limit_from("RATELIMIT_UPLOADS_PER_USER"), key_func=rate_key_user)
@auth_required()
@bp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}}}}}})
@bp.response(201, UploadSchema)
def upload():
    """Upload a JPEG, PNG or WebP image: checked by content, re-encoded without EXIF or GPS

    Refused: a body over UPLOAD_MAX_BYTES (413, from Content-Length, before it is read), any
    other type whatever its name says (415), pixel sizes over the limits, truncated or corrupt
    files and files that are also web pages or archives (422).
    """
    # The body is already bounded (core.boundary: UPLOAD_MAX_BYTES and the multipart overhead,
    # from Content-Length before it is read); the file itself is bounded here.
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if not request.mimetype == "multipart/form-data":
        raise APIError("请以 multipart/form-data 上传，文件字段名为 file", code="multipart_required", status=415)
    file = request.files.get("file")
    if file is None:
        raise ValidationFailed(details={"file": ["缺少文件字段 file"]})
    data = file.stream.read(limit + 1)
    if len(data) > limit:
        raise APIError(f"图片不能超过 {limit // (1024 * 1024)} MB", code="upload_too_large", status=413)
    return services.store_image(current_principal().id, data)


@bp.route("/uploads/<name>")
def image(name):
    """An uploaded image (public by its unguessable name, so the mini-program's <image> can show it)"""
    path, content_type = services.open_image(name)
    response = send_file(path, mimetype=content_type, max_age=365 * 24 * 3600, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response

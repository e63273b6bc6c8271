"""Image uploads: content decides, oversize is refused before it is read, only clean pixels stay."""
import io
import struct
import zlib

import pytest
from PIL import Image

from tests.conftest import bearer


def _image(fmt: str, size=(64, 48), color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def _exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "FakeCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    gps = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    exif[0x8825] = gps
    return exif.tobytes()


def _post(client, token, data: bytes, filename="photo.jpg", content_type="image/jpeg", **kwargs):
    return client.post("/api/v1/uploads", headers=bearer(token),
                       data={"file": (io.BytesIO(data), filename, content_type)},
                       content_type="multipart/form-data", **kwargs)


@pytest.fixture
def resident(login):
    return login()


@pytest.mark.parametrize("fmt,content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_a_real_image_is_stored_reencoded_and_served_with_its_type(client, resident, fmt, content_type):
    response = _post(client, resident.token, _image(fmt), filename="whatever.bin", content_type="text/plain")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["content_type"] == content_type and (body["width"], body["height"]) == (64, 48)
    served = client.get(body["url"])
    assert served.status_code == 200
    assert served.mimetype == content_type
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(served.data)).format == fmt
    assert len(body["id"]) > 24 and body["id"].split(".")[0].isascii()


def test_exif_and_gps_are_dropped_and_the_photo_stays_upright(client, resident, app):
    raw = _image("JPEG", size=(80, 40), exif=_exif_with_gps())
    assert b"FakeCam" in raw and Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)
    response = _post(client, resident.token, raw)
    assert response.status_code == 201
    stored = client.get(response.json["url"]).data
    image = Image.open(io.BytesIO(stored))
    assert not image.getexif() and b"FakeCam" not in stored and b"Exif" not in stored
    assert image.size == (40, 80)  # orientation 6 applied before EXIF went away
    assert (response.json["width"], response.json["height"]) == (40, 80)


def test_svg_html_and_text_are_refused_whatever_their_name(client, resident):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>'
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    for data, name, declared in [(svg, "a.svg", "image/svg+xml"), (html, "cat.jpg", "image/jpeg"),
                                 (b"GIF89a" + b"\0" * 20, "a.gif", "image/gif"), (b"hello", "a.png", "image/png")]:
        response = _post(client, resident.token, data, filename=name, content_type=declared)
        assert response.status_code == 415, (name, response.json)
        assert response.json["error"]["code"] == "unsupported_image_type"


def test_truncated_and_corrupt_images_are_refused(client, resident):
    jpeg = _image("JPEG", size=(400, 300), color=(10, 200, 90))
    png = _image("PNG", size=(300, 200))
    for data in (jpeg[: len(jpeg) // 2], png[: len(png) - 40], b"\xff\xd8\xff\xe0" + b"\0" * 100):
        response = _post(client, resident.token, data)
        assert response.status_code == 422, response.json
        assert response.json["error"]["code"] == "image_corrupt"


def test_polyglots_are_refused(client, resident):
    jpeg = _image("JPEG")
    zip_payload = b"PK\x03\x04" + b"\x14\x00" + b"\0" * 40 + b"PK\x05\x06" + b"\0" * 18
    with_zip = jpeg + zip_payload
    with_html_after = jpeg + b"<html><script>alert(1)</script></html>"
    # markup hidden inside the image: a JPEG comment segment (COM, 0xFFFE) right after SOI
    comment = b"<script>alert(1)</script>"
    with_markup_inside = jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]
    png = _image("PNG")
    png_with_pdf = png + b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
    for data in (with_zip, with_html_after, with_markup_inside, png_with_pdf):
        response = _post(client, resident.token, data)
        assert response.status_code == 422, response.json
        assert response.json["error"]["code"] == "image_polyglot"
    # binary data after the image that is no document (e.g. a motion photo's video) is dropped, not refused
    response = _post(client, resident.token, jpeg + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)))
    assert response.status_code == 201
    assert b"ftypmp42" not in client.get(response.json["url"]).data


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size; its one IDAT would inflate to gigabytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")


def test_oversize_pixel_dimensions_are_refused_without_decoding(client, resident):
    response = _post(client, resident.token, _png_header_only(50_000, 50_000))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "image_dimensions_too_large"
    assert response.json["error"]["details"] == {"width": 50_000, "height": 50_000}
    assert _post(client, resident.token, _png_header_only(9000, 10)).json["error"]["code"] == \
        "image_dimensions_too_large"


def test_oversize_bodies_are_refused_before_they_are_read(app, client, resident):
    app.config["UPLOAD_MAX_BYTES"] = 50_000
    big = _image("PNG", size=(400, 400)) + b"\0" * 100_000
    # declared too large: refused from the Content-Length header
    response = _post(client, resident.token, big)
    assert response.status_code == 413 and response.json["error"]["code"] == "payload_too_large"
    # within the multipart allowance but the file itself is over the limit
    response = _post(client, resident.token, _image("PNG") + b"\0" * 55_000)
    assert response.status_code == 413 and response.json["error"]["code"] == "upload_too_large"


def test_refusals_leave_no_file_and_no_row(app, client, resident, tmp_path):
    from core.extensions import db
    from core.uploads.models import Upload

    _post(client, resident.token, b"<svg/>", filename="x.svg")
    _post(client, resident.token, _image("JPEG")[:100])
    with app.app_context():
        assert db.session.query(Upload).count() == 0
    stored = [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()] if (tmp_path / "uploads").exists() else []
    assert stored == []


def test_upload_needs_a_login_a_file_and_multipart(client, resident):
    assert client.post("/api/v1/uploads", data={"file": (io.BytesIO(_image("PNG")), "a.png")},
                       content_type="multipart/form-data").status_code == 401
    response = client.post("/api/v1/uploads", headers=bearer(resident.token), json={"file": "x"})
    assert response.status_code == 415 and response.json["error"]["code"] == "multipart_required"
    response = client.post("/api/v1/uploads", headers=bearer(resident.token), data={"other": "x"},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "file" in response.json["error"]["details"]
    response = _post(client, resident.token, b"")
    assert response.status_code == 422 and response.json["error"]["code"] == "image_empty"


def test_unknown_and_malformed_names_are_404(client):
    for name in ("AAAAAAAAAAAAAAAAAAAAAAAA.jpg", "..%2f..%2fetc%2fpasswd", "x.svg"):
        response = client.get(f"/api/v1/uploads/{name}")
        assert response.status_code == 404
        assert response.json["error"]["code"] in ("upload_not_found", "not_found")

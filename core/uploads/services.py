"""Accept an image only for what its bytes are, and keep only a clean re-encoding of it.

The order of checks is the order of cost: size (the view refuses an oversize body from its
Content-Length before reading it), magic bytes, the declared pixel size from the header (before
any decoding, so a decompression bomb is never expanded), markup or archives hidden in the file
(polyglots), then a full decode (truncated files fail here), then a re-encode that keeps pixels
only: EXIF (and its GPS position), XMP, comments and anything after the image are gone.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import struct
import warnings
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps

from core.errors import APIError, NotFound, ValidationFailed
from core.extensions import db
from core.uploads.models import Upload

FORMATS = {  # Pillow format → (content type, file extension)
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
CONTENT_TYPES = {ext: content_type for content_type, ext in FORMATS.values()}
# Markup that makes a file also a web page or script (XMP metadata, legitimately in photos,
# uses none of these).
MARKUP = re.compile(rb"<\s*(script|html|body|iframe|svg|object|embed|meta|a\s|img\s|!doctype)|<\?php|javascript:",
                    re.IGNORECASE)
# Archives and documents that must not ride along after the image data (a ZIP's directory sits
# at its end, hence the tail is searched too).
ARCHIVES = (b"PK\x03\x04", b"PK\x05\x06", b"%PDF-", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b\x08")
NAME = re.compile(r"^[A-Za-z0-9_-]{24}\.(jpg|png|webp)$")


# Pillow's own bomb guard would refuse huge headers inside Image.open, before this module can say
# which size was refused; _open checks the declared size itself before anything is decoded.
Image.MAX_IMAGE_PIXELS = None


class UploadRefused(APIError):
    status = 422


def _refuse(status: int, code: str, message: str, **details) -> UploadRefused:
    return UploadRefused(message, code=code, status=status, details=details)


def sniff(data: bytes) -> str | None:
    """The format the magic bytes say, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _jpeg_end(data: bytes) -> int | None:
    """Offset just past the EOI that ends the top-level JPEG stream, or None when there is none."""
    i, n = 2, len(data)
    while i + 2 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            return i + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        if i + 4 > n:
            return None
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        i += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            while i + 1 < n:
                if data[i] == 0xFF and data[i + 1] != 0x00 and not 0xD0 <= data[i + 1] <= 0xD7:
                    break
                i += 1
    return None


def _png_end(data: bytes) -> int | None:
    i = 8
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[i:i + 8])
        i += 12 + length
        if kind == b"IEND":
            return i if i <= len(data) else None
    return None


def _webp_end(data: bytes) -> int | None:
    size = struct.unpack("<I", data[4:8])[0]
    end = 8 + size + (size & 1)
    return end if end <= len(data) else None


_ENDS = {"JPEG": _jpeg_end, "PNG": _png_end, "WEBP": _webp_end}


def _check_polyglot(data: bytes, fmt: str) -> None:
    if MARKUP.search(data):
        raise _refuse(422, "image_polyglot", "图片中夹带了网页或脚本内容，已拒绝")
    end = _ENDS[fmt](data)
    if end is None:
        raise _refuse(422, "image_corrupt", "图片文件不完整或已损坏")
    trailer = data[end:].lstrip(b"\x00\r\n\t ")
    if trailer.startswith((b"<", b"MZ")) or any(sig in trailer[:4096] or sig in trailer[-65536:]
                                               for sig in ARCHIVES):
        raise _refuse(422, "image_polyglot", "图片后面附带了其他文件（如压缩包或文档），已拒绝")


def _open(data: bytes, fmt: str) -> Image.Image:
    max_side = current_app.config["UPLOAD_MAX_SIDE"]
    max_pixels = current_app.config["UPLOAD_MAX_PIXELS"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = image.size  # from the header: nothing is decoded yet
            if width > max_side or height > max_side or width * height > max_pixels:
                raise _refuse(422, "image_dimensions_too_large",
                              f"图片尺寸过大（{width}×{height}），单边不超过 {max_side} 像素、总计不超过 "
                              f"{max_pixels // 1_000_000} 百万像素", width=width, height=height)
            image.load()  # full decode: a truncated or corrupt file fails here
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(422, "image_dimensions_too_large", "图片尺寸过大")
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError… for broken files
        raise _refuse(422, "image_corrupt", "图片文件不完整或已损坏")
    return image


def _reencode(image: Image.Image, fmt: str) -> tuple[bytes, tuple[int, int]]:
    image = ImageOps.exif_transpose(image)  # keep the photo upright once EXIF is gone
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(out, "WEBP", quality=85)
    return out.getvalue(), image.size


def storage_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _path(name: str) -> Path:
    return storage_dir() / name[:2] / name


def store_image(user_id: int, data: bytes) -> Upload:
    """Check, re-encode and store an uploaded image; the caller has bounded `data` already."""
    if not data:
        raise _refuse(422, "image_empty", "没有收到图片内容")
    fmt = sniff(data)
    if fmt is None:
        raise _refuse(415, "unsupported_image_type", "只接受 JPEG、PNG 或 WebP 图片")
    image = _open(data, fmt)
    _check_polyglot(data, fmt)
    clean, (width, height) = _reencode(image, fmt)
    content_type, ext = FORMATS[fmt]
    name = f"{secrets.token_urlsafe(18)}.{ext}"
    path = _path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(clean)
    os.replace(partial, path)  # readers never see half a file
    upload = Upload(name=name, user_id=user_id, content_type=content_type, width=width,
                    height=height, size=len(clean), original_size=len(data))
    db.session.add(upload)
    db.session.flush()
    return upload


def open_image(name: str) -> tuple[Path, str]:
    """The stored file of a public upload name and its content type, or 404."""
    match = NAME.match(name)
    path = _path(name) if match else None
    if path is None or not path.is_file():
        raise NotFound("图片不存在", code="upload_not_found")
    return path, CONTENT_TYPES[match.group(1)]


def get_upload(name: str) -> Upload:
    from sqlalchemy import select

    upload = db.session.scalar(select(Upload).where(Upload.name == name)) if NAME.match(name) else None
    if upload is None:
        raise NotFound("图片不存在", code="upload_not_found")
    return upload


def not_owned(user_id: int, names) -> list[str]:
    """The names among `names` that are no upload of this user (unknown, or someone else's)."""
    from sqlalchemy import select

    names = [str(n) for n in names]
    valid = [n for n in names if NAME.match(n)]
    mine = set(db.session.scalars(select(Upload.name).where(Upload.name.in_(valid), Upload.user_id == user_id))) \
        if valid else set()
    return [n for n in names if n not in mine]


def require_own_photos(user_id: int, names, *, field: str, most: int = 9) -> list[str]:
    """Photos of a post, review or proof: at most `most`, each an upload of this user, else 422
    on `field`."""
    names = list(names or [])
    if len(names) > most:
        raise ValidationFailed(f"最多 {most} 张照片", details={"fields": {field: [f"最多 {most} 张照片"]}})
    bad = not_owned(user_id, names)
    if bad:
        message = f"照片 {bad[0]} 不存在或不是您上传的，请先上传"
        raise ValidationFailed(message, details={"fields": {field: [message]}})
    return names

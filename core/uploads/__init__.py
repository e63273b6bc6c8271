"""Uploaded images: checked by content, re-encoded (no EXIF, no GPS), stored under random names."""

"""Helpers shared by the CSV import commands (estates, service-order history): a byte counter for
the progress bar, and error text that stays printable whatever the file's encoding."""
from __future__ import annotations

import io
import re

# Undecodable bytes come through as lone surrogates (errors="surrogateescape").
UNDECODABLE = re.compile("[\udc80-\udcff]")


def printable(text: str) -> str:
    """Text from a file as it may be shown: undecodable bytes become U+FFFD."""
    return UNDECODABLE.sub("\ufffd", text)


def format_fields(fields: dict, columns: tuple[str, ...] = ()) -> str:
    """A validation error's fields on one line, in the file's column order."""
    order = {name: i for i, name in enumerate(columns)}
    return "; ".join(f"{name}: {', '.join(map(str, messages))}"
                     for name, messages in sorted(fields.items(), key=lambda kv: order.get(kv[0], 99)))


class CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary file, for the progress bar."""

    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n

"""An uploaded image: who uploaded it and what the stored, re-encoded file is."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import BigID, utcnow
from core.extensions import db


class Upload(db.Model):
    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # The public name (random, unguessable) is also the file name under UPLOAD_DIR.
    name: Mapped[str] = mapped_column(sa.String(48), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    content_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]  # bytes stored
    original_size: Mapped[int]  # bytes received
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.Index("ix_uploads_user_id", "user_id", "id"),)

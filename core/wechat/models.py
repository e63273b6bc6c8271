"""Shared WeChat state: the access token every process uses."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db


class WeChatKV(db.Model):
    """wechatpy session storage over the database, so all processes share one access token."""

    __tablename__ = "wechat_kv"

    key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    expires_at: Mapped[datetime | None]

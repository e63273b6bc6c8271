"""Ambassador test data: `make_ambassador` makes an active ambassador directly in the database
(tests of the application flow itself go through the API instead)."""
from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa


@pytest.fixture
def make_ambassador(app, login):
    """make(level=1, estate_ids=(), city=None, channel="member", user=None) -> the logged-in Account
    (with .user_id and .headers) of an active ambassador at the level of that position."""
    from ambassador.models import Ambassador, AmbassadorEstate, LevelChange, Level
    from core.extensions import db

    def make(level: int = 1, estate_ids=(), city: str | None = None, channel: str = "member", user=None,
             phone: str | None = None):
        account = user or login()
        with app.app_context():
            level_row = db.session.scalar(sa.select(Level).where(Level.position == level))
            db.session.add(Ambassador(user_id=account.user_id, level_id=level_row.id, channel=channel,
                                      real_name="测试代言人", phone=phone or f"139{secrets.randbelow(10**8):08d}",
                                      city=city, invite_code=secrets.token_hex(4).upper()))
            db.session.flush()
            for estate_id in estate_ids:
                db.session.add(AmbassadorEstate(user_id=account.user_id, estate_id=estate_id))
            db.session.add(LevelChange(user_id=account.user_id, kind="join", to_level_id=level_row.id,
                                       reason="测试数据"))
            db.session.commit()
        return account

    return make

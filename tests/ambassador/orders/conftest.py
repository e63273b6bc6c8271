"""The value-sharing tests' world: a resident with a steward and an inviter (both order test modules)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import pytest

from ambassador.referrals.models import Referral
from core.db import utcnow
from core.extensions import db


@dataclass
class World:
    estate_id: int
    steward_id: int
    resident_id: int
    resident_openid: str
    inviter_id: int | None = None


@pytest.fixture
def world(app, make_estate, make_engineer, mint_code, bind, login):
    """A resident bound to a steward (an engineer), invited by another user."""
    def make(*, inviter: bool = True, steward: bool = True, referral_status: str = "pending") -> World:
        estate_id = make_estate()
        openid = f"oRes{time.time_ns()}"
        if steward:
            engineer = make_engineer([estate_id])
            response = bind(mint_code(engineer, estate_id)["scene"], openid=openid)
            assert response.status_code in (200, 201), response.json
            resident_id, steward_id = response.json["user"]["id"], engineer.user_id
        else:
            resident_id, steward_id = login(openid=openid).user_id, None
        w = World(estate_id, steward_id, resident_id, openid)
        if inviter:
            w.inviter_id = login().user_id
            with app.app_context():
                db.session.add(Referral(inviter_id=w.inviter_id, invitee_id=resident_id, invite_code="TESTCODE",
                                        status=referral_status, protected_until=utcnow() + timedelta(days=30)))
                db.session.commit()
        return w
    return make

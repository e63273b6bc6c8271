"""Who may organise community activities, and where: an active ambassador whose level has
`lead_activities`, in the estates they serve (what activation.activities asks)."""
import pytest
import sqlalchemy as sa


def test_a_gold_ambassador_leads_activities_in_the_estates_they_serve(app, make_estate, make_ambassador):
    from ambassador.members import services

    first, second = make_estate(), make_estate()
    amb = make_ambassador(level=3, estate_ids=[second, first])
    with app.app_context():
        assert services.lead_activity_estates(amb.user_id) == sorted([first, second])
        assert services.may_lead_activities(amb.user_id)


def test_a_level_without_the_permission_is_refused_naming_the_level(app, make_estate, make_ambassador):
    from ambassador.members import services
    from core.errors import Forbidden

    amb = make_ambassador(level=1, estate_ids=[make_estate()])
    with app.app_context():
        assert not services.may_lead_activities(amb.user_id)
        with pytest.raises(Forbidden) as refused:
            services.lead_activity_estates(amb.user_id)
    assert refused.value.code == "permission_denied" and refused.value.details["permission"] == "lead_activities"


def test_a_suspended_ambassador_or_a_resident_may_not(app, login, make_estate, make_ambassador):
    from ambassador.members import services
    from ambassador.models import Ambassador
    from core.errors import Forbidden
    from core.extensions import db

    amb = make_ambassador(level=3, estate_ids=[make_estate()])
    with app.app_context():
        db.session.execute(sa.update(Ambassador).where(Ambassador.user_id == amb.user_id).values(status="suspended"))
        db.session.commit()
        for user_id in (amb.user_id, login().user_id):
            assert not services.may_lead_activities(user_id)
            with pytest.raises(Forbidden) as refused:
                services.lead_activity_estates(user_id)
            assert refused.value.code == "not_an_ambassador"

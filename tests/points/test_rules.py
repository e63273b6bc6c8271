"""The earning-rule catalogue (points/rules.py) is what a fresh database starts with."""
from points import rules, services


def test_the_migrations_seed_every_kind_of_the_catalogue_with_its_defaults(ctx):
    seeded = {r.kind: (r.name, r.points, r.daily_cap, r.lifetime_cap, r.enabled) for r in services.rules()}
    assert seeded == {d.kind: (d.name, d.points, d.daily_cap, d.lifetime_cap, True) for d in rules.DEFAULTS.values()}


def test_a_grant_kind_without_a_rule_is_not_a_rule_kind():
    assert not set(rules.GRANT_NAMES) & set(rules.DEFAULTS)

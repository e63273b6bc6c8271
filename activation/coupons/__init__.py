"""Coupons: templates, issuing (claim, rules, grants) within stock and per-user limits, use and refund."""

"""Per-estate offers (千区千面): a coupon, an activity, a reward or a partner's listing put in front of the estates a rule matches."""

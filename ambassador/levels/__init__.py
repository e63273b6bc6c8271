"""Ambassador levels: the levels themselves, the daily evaluation, admins overrides, contribution and leaderboards."""

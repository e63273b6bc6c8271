"""Due care (proactive service): care items generated from product archives and maintenance plans, routed to the steward."""

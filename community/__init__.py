"""Estates, engineers, steward binding, residency, and the estate community: service orders,
reviews, complaints, likes, engineer rankings and KPIs."""

# The API is split by area (see core.register_blueprints).
API_MODULES = ("api", "admin_api", "orders_api", "stats_api", "feed_api")
VIEW_MODULES = ("views", "order_views", "feed_views")

"""Service ambassadors (服务代言人): applications, levels and permissions, tasks, referrals,
value sharing and leaderboards."""

# The API and the pages are split by area (see core.register_blueprints).
API_MODULES = ("api", "admin_api", "levels_api", "tasks_api", "sharing_api", "orders_api")
VIEW_MODULES = ("views", "level_views", "task_views", "sharing_views", "order_views")


def _register_level_provider() -> None:
    # points must not import this package; it asks for a user's level through a provider.
    from ambassador import access
    from points import services

    services.set_level_provider(access.level_position)


_register_level_provider()

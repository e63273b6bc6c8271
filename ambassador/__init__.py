"""Service ambassadors (服务代言人): applications, levels and permissions, tasks, referrals,
value sharing and leaderboards."""

# The API and the pages are split by area (see core.register_blueprints).
API_MODULES = ("api", "admin_api", "tasks_api", "sharing_api")
VIEW_MODULES = ("views", "task_views")

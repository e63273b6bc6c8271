"""Scheduled statistics jobs: thin calls of the services."""
from community.stats import services
from core.scheduler import Job


def roll_ranking_window() -> int:
    """Completions that left the ranking's recent window stop counting (one set-based UPDATE)."""
    return services.roll_window()


JOBS = [
    # Just after midnight in Shanghai, when a day leaves the window.
    Job("roll-ranking-window", roll_ranking_window, "cron", {"hour": 0, "minute": 5, "timezone": "Asia/Shanghai"}),
]

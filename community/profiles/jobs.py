"""Estate profile jobs: thin calls of the services."""
from community.profiles import services
from core.scheduler import Job


def refresh_estate_profiles() -> int:
    """Every estate's figures, set-based (the runner commits once); live offers are then matched
    again (activation.offers hears core.signals.estate_profiles_changed)."""
    return services.refresh_profiles()


JOBS = [
    # At night in Shanghai, after the month statistics and the ranking window moved (00:05).
    Job("refresh-estate-profiles", refresh_estate_profiles, "cron", {"hour": 1, "minute": 30, "timezone": "Asia/Shanghai"}),
]

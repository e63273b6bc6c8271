"""Estate profile jobs: thin calls of the services."""
from community.profiles import services
from community.stats import services as stats
from community.stewards import services as stewards
from core.scheduler import Job


def refresh_estate_profiles() -> int:
    """Every estate's figures, set-based (the runner commits once); live offers are then matched
    again (activation.offers hears core.signals.estate_profiles_changed)."""
    return services.refresh_profiles()


def refresh_region_figures() -> int:
    """The console's region rollup: active estates, households and residents with a steward per
    city and district (community.stats.models.RegionStat), set-based."""
    return stats.refresh_regions(stewards.bound_by_estate())


JOBS = [
    # At night in Shanghai, after the month statistics and the ranking window moved (00:05).
    Job("refresh-estate-profiles", refresh_estate_profiles, "cron", {"hour": 1, "minute": 30, "timezone": "Asia/Shanghai"}),
    # The dashboard's steward coverage, as of the night: the same count as the profiles'.
    Job("refresh-region-figures", refresh_region_figures, "cron", {"hour": 1, "minute": 40, "timezone": "Asia/Shanghai"}),
]

"""A partner across the feature: listings shown through offers, what residents see and sign up for, its audience and dashboard."""

"""Service orders: requests, the lifecycle, reviews, complaints, likes, visit days and slot booking, history from the service system."""

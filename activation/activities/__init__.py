"""Community activities (社区活动): sign-up with a waitlist, check-in at the venue, rewards for taking part."""

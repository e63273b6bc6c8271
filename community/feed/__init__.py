"""The estate feed: questions and answers, photo shares, reviews, announcements, moderation."""

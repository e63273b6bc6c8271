"""Referrals (邀请): invite codes, attribution of new users, the inviter rewards, flagged pairs."""

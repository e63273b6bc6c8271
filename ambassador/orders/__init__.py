"""Value sharing (价值共享): orders from the order system pay the steward and the inviter, refunds reverse it."""

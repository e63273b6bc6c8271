"""The engineer's customer book: notes, tags, follow-ups, one timeline per customer, and customer health with its churn warnings."""

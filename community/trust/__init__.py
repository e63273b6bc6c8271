"""Trust in steward bindings (anti-fraud): binding points held until a sign of life, flags with reasons, the agents' review."""

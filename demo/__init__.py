"""Demo data and the one-command demo (`flask demo`): not used in production."""

"""Stewards (管家): binding codes, steward bindings and visits; engineers and their customers."""

"""Ambassador tests share `make_ambassador` from tests/conftest.py (other areas use it too)."""

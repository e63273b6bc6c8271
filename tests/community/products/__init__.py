"""Tests of the product archives, the catalogue and the care schedules."""

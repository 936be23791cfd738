"""Fixes: pure plans from findings, journal-first apply with preconditions, verification and undo."""

"""Placeholder replaced by the reports helper."""

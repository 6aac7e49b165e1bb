"""Organisations: societies and other units, their registration and history."""

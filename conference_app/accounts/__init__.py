"""Accounts: login, logout, passwords, user administration."""

"""Notifications: what concerns a user, in the app and by e-mail, and the log of sent mail."""

"""The audit log: who changed or decided what, when, from where."""

"""The events domain's operations, one module per concern."""

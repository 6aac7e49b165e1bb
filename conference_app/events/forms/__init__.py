"""The events domain's forms, one module per audience; every message is translated."""

"""Cross-cutting pieces: permissions, database helpers, i18n, layout, errors."""

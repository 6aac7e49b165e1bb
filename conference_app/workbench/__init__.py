"""The selection analyst's workbench: what the quantitative selection offers the web app."""

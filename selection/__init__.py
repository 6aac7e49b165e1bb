"""Frontier-results selection: harvest Beijing papers from OpenAlex and rank them.

A plain library over pandas and pyarrow; it never imports Flask.
"""

"""Rendering for people: the report table, the sweep's table, CSV, pictures and HTML page."""

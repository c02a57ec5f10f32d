"""Numbered migrations of the PostGIS store, oldest first."""

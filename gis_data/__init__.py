"""gis_data."""

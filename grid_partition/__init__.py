"""grid_partition."""

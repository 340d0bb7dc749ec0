"""gridwall."""

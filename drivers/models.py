"""Models of the drivers app."""

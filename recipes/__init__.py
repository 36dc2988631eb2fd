"""recipes: filled by later work."""

"""tuning: filled by later work."""

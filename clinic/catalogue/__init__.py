"""The clinic's dilator catalogue: sets and their sizes."""

"""Built-in datasets (generated, no download)."""

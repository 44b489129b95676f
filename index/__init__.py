"""The engine: articles on disk to ranked, cited sentences."""

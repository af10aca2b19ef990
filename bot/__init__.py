"""artistbot's application layer: the platform-free chat layer, adapters and the CLI."""

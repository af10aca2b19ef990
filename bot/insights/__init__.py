"""What fans ask: the figures of ``artistbot report`` and the operator page."""

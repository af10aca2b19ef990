"""The platform-free chat layer: one message in, one neutral reply out."""

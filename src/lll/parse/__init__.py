"""Parse: bodies in, frozen ``ParsedFeed``/``ParsedItem`` out. Pure functions, no I/O."""

"""Sources: what the editor follows, in and out of OPML."""

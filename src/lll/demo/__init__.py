"""The bundled sample corpus and the loopback server that replays it day by day."""

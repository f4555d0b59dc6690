"""Voice activity detection engines: speech start and end in a stream of audio."""

"""The voice-convert pipeline: speech in, the same words in the reference speaker's voice out."""

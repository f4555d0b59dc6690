"""Text to speech: the ``TTSEngine`` interface and its implementations."""

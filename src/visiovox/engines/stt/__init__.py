"""Speech to text: the ``STTEngine`` interface and its implementations."""

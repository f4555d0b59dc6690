"""Speech to text: ``spec.py`` (params and input, for the gateway) and ``run.py`` (Whisper)."""

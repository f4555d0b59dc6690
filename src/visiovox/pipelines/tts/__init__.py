"""Text to speech: ``spec.py`` (params, for the gateway) and ``run.py`` (Piper and the encoder)."""

"""Talking avatar: ``spec.py`` (for the gateway) and ``run.py`` (TTS, then lip-sync's rendering)."""

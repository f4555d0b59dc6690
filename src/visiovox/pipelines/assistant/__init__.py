"""The voice assistant turn: ``spec.py`` for the gateway; ``run.py`` and ``speech.py`` do it."""

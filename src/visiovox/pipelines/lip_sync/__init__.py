"""Lip-sync: ``spec.py`` for the gateway; ``run.py``; ``render.py``, which talking-avatar shares."""

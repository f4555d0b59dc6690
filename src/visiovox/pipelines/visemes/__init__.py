"""Visemes for 3D avatars: ``spec.py`` (params, for the gateway) and ``run.py`` (the work)."""

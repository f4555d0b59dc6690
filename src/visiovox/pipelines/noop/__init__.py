"""Diagnostic pipelines ``noop`` and ``noop-gpu``: ``spec.py`` declares them, ``run.py`` sleeps."""

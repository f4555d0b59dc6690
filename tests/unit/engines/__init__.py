"""Tests of visiovox.engines."""

"""Tests of visiovox.media."""

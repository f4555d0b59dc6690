"""Tests of visiovox.models."""

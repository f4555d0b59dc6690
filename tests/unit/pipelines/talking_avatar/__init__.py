"""Tests of visiovox.pipelines.talking_avatar."""

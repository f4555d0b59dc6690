"""Tests of visiovox.pipelines.assistant."""

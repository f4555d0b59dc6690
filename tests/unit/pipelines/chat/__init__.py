"""Tests of visiovox.pipelines.chat."""

"""Tests of visiovox.pipelines.assistant_live."""

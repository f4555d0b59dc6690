"""Tests of visiovox.pipelines.stt."""

"""Tests of visiovox.pipelines.tts."""

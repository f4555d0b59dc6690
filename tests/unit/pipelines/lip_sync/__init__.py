"""Tests of visiovox.pipelines.lip_sync."""

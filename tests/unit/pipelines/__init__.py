"""Tests of visiovox.pipelines."""

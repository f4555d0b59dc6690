"""Tests of visiovox.pipelines.face_swap."""

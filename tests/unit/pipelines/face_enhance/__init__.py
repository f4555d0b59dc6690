"""Tests of visiovox.pipelines.face_enhance."""

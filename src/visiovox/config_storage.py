"""The ``storage``, ``voices``, ``video`` and ``fleet`` sections of the settings: where job
files and registered voices live and how much of them an owner may keep, the caps on
the videos workers transcode, and how long video jobs are split across workers.

Kept apart from ``config.py``, which holds them as ``Settings.storage``,
``Settings.voices``, ``Settings.video`` and ``Settings.fleet``. The backends are
``storage/``'s, the voice registry ``jobs/voices.py``'s, the split ``jobs/segments.py``'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class S3Settings(BaseModel):
    """An S3-compatible bucket (AWS S3, MinIO, Ceph, R2); credentials come from boto's chain."""

    bucket: str = ""
    # Put before every key (``vv/`` → ``vv/jobs/<id>/in/…``): deployments may share a bucket.
    prefix: str = ""
    # None: AWS itself; else the server's URL (``http://minio:9000``, an R2 account endpoint).
    endpoint_url: str | None = None
    region: str | None = None
    # ``path`` for MinIO and most self-hosted servers; ``auto`` lets boto choose.
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # Multipart upload part size: S3 wants at least 5 MiB for every part but the last.
    part_size_bytes: int = Field(default=8 * 1024**2, ge=5 * 1024**2)
    # Parts of one upload sent at once (each held in memory until sent).
    upload_concurrency: int = Field(default=4, ge=1, le=16)
    # Retention lists the bucket at most this often per worker (a LIST is paid per call),
    # not at every janitor sweep.
    retention_sweep_s: float = Field(default=60.0, ge=0)


class StorageSettings(BaseModel):
    """Where uploads, outputs and voices live, and how long jobs are kept."""

    # ``local``: files under ``root``; ``s3``: objects in ``s3.bucket`` (``root`` is then
    # only scratch space: workers' staged jobs, gateways' copies of uploads being checked).
    backend: Literal["local", "s3"] = "local"
    root: Path = Path("data")
    retention_s: int = 86_400
    # Free bytes under ``root`` below which uploads are refused (507 insufficient_storage);
    # checked with the local backend only.
    min_free_bytes: int = Field(default=1024**3, ge=0)
    # S3 only: GET /v1/jobs/{id}/files/{name} answers 307 to a presigned URL valid this long.
    presign_downloads: bool = False
    presign_ttl_s: int = Field(default=300, ge=1, le=7 * 86_400)
    s3: S3Settings = Field(default_factory=S3Settings)

    @model_validator(mode="after")
    def _bucket_named(self) -> StorageSettings:
        if self.backend == "s3" and not self.s3.bucket:
            raise ValueError("storage.backend s3 needs storage.s3.bucket")
        return self


class VideoSettings(BaseModel):
    """Caps on the videos a worker transcodes frame by frame."""

    max_frames: int = 216_000
    max_pixels: int = 8_847_360


class FleetSettings(BaseModel):
    """Long video jobs split into segments that any capable worker runs (``jobs/segments.py``)."""

    # A video job whose output is longer than this is split into segments of about
    # this length, each its own job; shorter ones run whole on one worker.
    segment_s: float = Field(default=20.0, gt=0)
    # A cut moves to the input's nearest keyframe within this share of a segment; with
    # none that near, it is a re-encoded boundary (decoded from the keyframe before).
    # Small, so segments stay even and the fleet's workers finish together.
    keyframe_slack: float = Field(default=0.1, ge=0, le=0.5)
    # Frames before each cut that the segment's face tracker runs on first.
    warmup_frames: int = Field(default=3, ge=0)


class VoiceSettings(BaseModel):
    """Owners' registered RVC voices (``/v1/voices``): caps and the uploaded graph's checks."""

    # Voices one owner may keep, those still being validated included.
    max_per_owner: int = Field(default=20, ge=1)
    # Bytes one owner's voices may take on disk together (synthesizers and feature banks).
    max_bytes: int = Field(default=1024**3, ge=1_024)
    # Largest tensor an uploaded synthesizer may declare (RVC v2's largest is ~8 MiB).
    max_initializer_bytes: int = Field(default=64 * 1024**2, ge=1_024)

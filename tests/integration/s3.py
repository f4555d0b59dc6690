"""An S3-compatible server on loopback for the storage tests: moto's S3 in server mode.

MinIO is not installable here; of what PyPI offers, moto's server is the most
faithful S3 that runs as a plain process (LocalStack's S3 needs its whole
runtime, fake-s3 has no multipart uploads). Its limits, which the tests do
not lean on: objects live in the server's memory (spilled to temporary files
past a size) and go with the process; it checks neither signatures nor
credentials, so a presigned URL's expiry and a wrong key are not refused; no
consistency delays, no throttling (503 SlowDown) and no real network.
What it does enforce and the tests rely on: multipart uploads (5 MiB least
part size, listing and aborting uploads), ranged GETs, paginated listings,
batch deletes, server-side copies and presigned GET URLs that carry response
headers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

from tests.integration.stack import free_port, wait_until
from visiovox.process import die_with_parent

# moto takes any credentials; these only keep boto from looking for real ones.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "visiovox-test",
    "AWS_SECRET_ACCESS_KEY": "visiovox-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class S3Server:
    """One moto S3 server process on 127.0.0.1 and a client of it."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> S3Server:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # only calls prctl: safe with threads
        )
        wait_until(self._up, timeout_s=30, what="the moto S3 server")
        return self

    def _up(self) -> bool:
        try:
            return httpx.get(f"{self.endpoint_url}/moto-api/", timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=20)
            self._process = None

    def client(self) -> Any:
        return boto3.session.Session(
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        ).client(
            "s3", endpoint_url=self.endpoint_url, config=Config(s3={"addressing_style": "path"})
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, *, prefix: str = "", presign: bool = False) -> dict[str, str]:
        """The environment that points a VisioVox process at ``bucket`` on this server."""
        return {
            **CREDENTIALS,
            "VISIOVOX_STORAGE__BACKEND": "s3",
            "VISIOVOX_STORAGE__S3__BUCKET": bucket,
            "VISIOVOX_STORAGE__S3__PREFIX": prefix,
            "VISIOVOX_STORAGE__S3__ENDPOINT_URL": self.endpoint_url,
            "VISIOVOX_STORAGE__S3__ADDRESSING_STYLE": "path",
            "VISIOVOX_STORAGE__PRESIGN_DOWNLOADS": "true" if presign else "false",
        }

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key under ``prefix``."""
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def open_uploads(self, bucket: str) -> list[str]:
        """Keys of the multipart uploads begun and neither completed nor aborted."""
        uploads = self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return [upload["Key"] for upload in uploads]

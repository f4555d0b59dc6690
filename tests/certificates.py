"""Self-signed certificates for TLS tests, made by the openssl command."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

from tests.tools import missing_tool


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A one-day certificate for ``name`` (a DNS name or an IP address) and its key, PEM."""
    if shutil.which("openssl") is None:
        missing_tool("openssl is needed to make a test certificate (apt-get install openssl)")
    try:
        san = f"IP:{ipaddress.ip_address(name)}"
    except ValueError:
        san = f"DNS:{name}"
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"]
    subprocess.run([*command, "-addext", f"subjectAltName={san}"], check=True, capture_output=True)
    return cert, key

"""Headless Chromium for the console's tests: the distribution's browser and driver, fake devices.

The browser is Debian's ``chromium`` driven through its ``chromedriver`` by
Selenium (no browser download); the microphone and the webcam are files the
tests make (``--use-file-for-fake-audio-capture``, ``--use-file-for-fake-video-capture``).
"""

from __future__ import annotations

import shutil
import wave
from pathlib import Path
from typing import Any

import numpy as np

from tests.tools import missing_tool

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def start_chromium(*, audio: Path, video: Path) -> Any:
    """Headless Chromium: its microphone plays ``audio`` once, its webcam loops ``video``."""
    binary = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        missing_tool(
            "the console's tests need chromium and chromedriver (apt: chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={audio}%noloop",
        f"--use-file-for-fake-video-capture={video}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=str(driver_path)))


def padded_wav(speech: bytes, destination: Path, *, silence_s: float) -> Path:
    """``speech`` (a WAV) followed by ``silence_s`` of silence, so a VAD hears it end."""
    source = destination.with_suffix(".speech.wav")
    source.write_bytes(speech)
    with wave.open(str(source), "rb") as reader:
        params, frames = reader.getparams(), reader.readframes(reader.getnframes())
    silence = b"\0" * int(params.framerate * silence_s) * params.sampwidth * params.nchannels
    with wave.open(str(destination), "wb") as writer:
        writer.setparams(params)
        writer.writeframes(frames + silence)
    return destination


def y4m_from_image(image: Path, destination: Path, *, frames: int = 20, fps: int = 10) -> Path:
    """A Y4M video (4:2:0) showing ``image`` for ``frames`` frames: a webcam Chromium can play."""
    import cv2

    picture = cv2.imread(str(image))
    height, width = (picture.shape[0] // 2) * 2, (picture.shape[1] // 2) * 2
    yuv = cv2.cvtColor(picture[:height, :width], cv2.COLOR_BGR2YUV_I420)
    header = f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode()
    destination.write_bytes(header + (b"FRAME\n" + yuv.tobytes()) * frames)
    return destination


def is_blank(png: bytes) -> bool:
    """Whether a screenshot is one flat colour (nothing drawn)."""
    import cv2

    pixels = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    return pixels is None or float(pixels.std()) < 2.0

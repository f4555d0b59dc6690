"""The web console in a real browser (headless Chromium) against the real stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faces import ASTRONAUT, HOPPER
from tests.integration.browser import is_blank, padded_wav, start_chromium, y4m_from_image
from tests.integration.stack import Stack, wait_for_job, wait_until

pytestmark = pytest.mark.slow

QUESTION = "What is the capital of France?"
PAGES = (
    "pipelines",
    "jobs",
    "workers",
    "models",
    "live-assistant",
    "live-face-swap",
    "live-voice",
)


@pytest.fixture(scope="module")
def devices(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fake microphone (Piper asking the question, then silence) and webcam (the astronaut)."""
    folder = tmp_path_factory.mktemp("devices")
    with stack.client("alice") as alice:
        job = alice.post("/v1/jobs/tts", data={"text": QUESTION}).json()
        done = wait_for_job(alice, job["id"], timeout_s=120)
        assert done["status"] == "succeeded", done
        speech = alice.get(done["outputs"][0]["url"]).content
    audio = padded_wav(speech, folder / "question.wav", silence_s=6.0)
    return audio, y4m_from_image(ASTRONAUT, folder / "webcam.y4m")


@pytest.fixture(scope="module")
def browser(stack: Stack, devices: tuple[Path, Path]) -> Iterator[Any]:
    audio, video = devices
    driver = start_chromium(audio=audio, video=video)
    try:
        driver.get(f"{stack.base_url}/")
        key = wait_until(
            lambda: driver.find_element("id", "api-key"), timeout_s=20, what="key field"
        )
        wait_until(key.is_displayed, timeout_s=20, what="the key form (auth is on)")
        key.send_keys(stack.api_keys["alice"])
        driver.find_element("css selector", "#key-form button").click()
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path))
    assert not is_blank(path.read_bytes()), f"the {name} screenshot is blank"
    return path


def severe_logs(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def script(driver: Any, source: str, *args: Any) -> Any:
    return driver.execute_script(source, *args)


# Form controls a screen reader could not name (no <label>, no aria-label).
UNLABELLED = """return [...document.querySelectorAll('input, select, textarea')]
    .filter(c => c.type !== 'hidden' && !c.labels?.length && !c.getAttribute('aria-label'))
    .map(c => c.outerHTML)"""


# Elements that reach past the window's right edge (the page would scroll sideways).
TOO_WIDE = """return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def send_message(driver: Any, text: str) -> None:
    """Type ``text`` into the live assistant's message field and send it."""
    typed = driver.find_element("id", "assistant-text")
    typed.send_keys(text)
    typed.submit()


def open_page(driver: Any, stack: Stack, page: str) -> None:
    driver.get(f"{stack.base_url}/#/{page}")


def test_every_page_loads_with_no_error_and_no_request_off_the_origin(
    browser: Any, stack: Stack, tmp_path: Path
) -> None:
    for page in PAGES:
        open_page(browser, stack, page)
        wait_until(
            lambda: script(browser, "return document.querySelector('main h2')?.textContent"),
            timeout_s=20,
            what=f"the {page} page",
        )
        if page in ("jobs", "workers", "models"):
            wait_until(
                lambda: script(browser, "return document.querySelectorAll('main tbody tr').length"),
                timeout_s=20,
                what=f"the {page} table's rows",
            )
        screenshot(browser, tmp_path, page)
        assert script(browser, UNLABELLED) == [], f"controls without a label on {page}"
    urls = script(browser, "return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls, "the page loaded nothing"
    assert [u for u in urls if not u.startswith(stack.base_url)] == []
    assert severe_logs(browser) == []
    assert script(browser, "return document.querySelector('main').scrollWidth") > 0


def submit_form(driver: Any, stack: Stack, pipeline: str) -> str:
    open_page(driver, stack, f"pipelines?name={pipeline}")
    form = wait_until(
        lambda: driver.find_elements("css selector", f"form[data-pipeline='{pipeline}']"),
        timeout_s=20,
        what=f"the {pipeline} form",
    )[0]
    return str(form.get_attribute("data-pipeline"))


def job_page_id(driver: Any) -> str:
    hash_ = wait_until(
        lambda: (h := script(driver, "return location.hash")).startswith("#/job/") and h,
        timeout_s=30,
        what="the job page",
    )
    return str(hash_.removeprefix("#/job/"))


def test_a_tts_job_through_the_form_plays_its_audio(
    browser: Any, stack: Stack, tmp_path: Path
) -> None:
    submit_form(browser, stack, "tts")
    browser.find_element("css selector", "[data-param='text']").send_keys("The console speaks.")
    browser.find_element("css selector", "form[data-pipeline='tts'] button[type=submit]").click()
    job_id = job_page_id(browser)
    duration = wait_until(
        lambda: script(browser, "return document.querySelector('#job-outputs audio')?.duration"),
        timeout_s=120,
        what="the audio preview's duration",
    )
    assert duration > 0
    assert browser.find_element("id", "job-status").text == "succeeded"
    assert browser.find_elements("css selector", "#job-outputs canvas.waveform")
    assert "succeeded" in browser.find_element("css selector", "[role=log]").text
    with stack.client("alice") as alice:
        assert alice.get(f"/v1/jobs/{job_id}").json()["params"]["text"] == "The console speaks."
    screenshot(browser, tmp_path, "tts-job")
    assert severe_logs(browser) == []


def test_a_face_swap_through_the_form_shows_the_result(
    browser: Any, stack: Stack, tmp_path: Path
) -> None:
    submit_form(browser, stack, "face-swap")
    browser.find_element("css selector", "[data-file='source']").send_keys(str(HOPPER))
    browser.find_element("css selector", "[data-file='target']").send_keys(str(ASTRONAUT))
    browser.find_element(
        "css selector", "form[data-pipeline='face-swap'] button[type=submit]"
    ).click()
    job_page_id(browser)
    width = wait_until(
        lambda: script(
            browser, "return document.querySelector('#job-outputs img.after')?.naturalWidth"
        ),
        timeout_s=180,
        what="the swapped image",
    )
    assert width > 0
    assert browser.find_element("id", "job-status").text == "succeeded"
    screenshot(browser, tmp_path, "face-swap-job")
    assert severe_logs(browser) == []


def test_the_live_assistant_hears_the_microphone_and_answers(
    browser: Any, stack: Stack, tmp_path: Path
) -> None:
    open_page(browser, stack, "live-assistant")
    wait_until(lambda: browser.find_elements("id", "assistant-start"), timeout_s=20, what="tab")
    browser.find_element("id", "assistant-start").click()
    try:
        heard = wait_until(
            lambda: script(
                browser,
                "return document.querySelector('[data-transcription]')?.textContent",
            ),
            timeout_s=120,
            what="the transcription",
        )
        # The question reached the worker's ears ("France" itself is sometimes
        # heard as "friends" when the machine is busy; the assistant still answers).
        assert "capital" in heard.lower()
        wait_until(
            lambda: int(browser.find_element("id", "assistant-played").text) > 0,
            timeout_s=120,
            what="a reply sentence played",
        )
        screenshot(browser, tmp_path, "live-assistant")
    finally:
        open_page(browser, stack, "jobs")  # leaving the tab ends the session


def test_speaking_over_a_reply_stops_it_in_the_browser(
    browser: Any, stack: Stack, tmp_path: Path
) -> None:
    """A typed request for a long reply (96 tokens, some 20 s of speech); the fake
    microphone asks its question again every few seconds, over the reply: the worker
    says ``interrupted`` and the console stops the reply and marks it."""
    open_page(browser, stack, "live-assistant")
    wait_until(lambda: browser.find_elements("id", "assistant-start"), timeout_s=20, what="tab")
    browser.find_element("id", "assistant-start").click()
    try:
        wait_until(
            lambda: browser.find_element("id", "assistant-state").text != "connecting",
            timeout_s=120,
            what="the session ready",
        )
        send_message(browser, "Tell me a long story about the moon and the stars.")
        wait_until(
            lambda: int(browser.find_element("id", "assistant-interrupted").text) > 0,
            timeout_s=120,
            what="a reply interrupted by the microphone",
        )
        marked = script(browser, "return document.querySelector('[data-interrupted]')?.textContent")
        assert marked and marked.startswith("Assistant: ") and marked.endswith("(interrupted)")
        screenshot(browser, tmp_path, "live-assistant-barge-in")
        assert not severe_logs(browser)
    finally:
        open_page(browser, stack, "jobs")  # leaving the tab ends the session


def test_the_live_assistant_avatar_draws_frames_during_a_reply(
    browser: Any, stack: Stack, tmp_path: Path
) -> None:
    open_page(browser, stack, "live-assistant")
    avatar = wait_until(
        lambda: browser.find_elements("id", "assistant-avatar"), timeout_s=20, what="tab"
    )
    avatar[0].click()
    browser.find_element("id", "assistant-start").click()
    try:
        canvas = browser.find_element("id", "assistant-avatar-view")
        wait_until(
            lambda: browser.find_element("id", "assistant-state").text == "listening",
            timeout_s=120,
            what="the session ready",
        )
        wait_until(  # the idle avatar, before any reply
            lambda: not is_blank(canvas.screenshot_as_png), timeout_s=30, what="an idle frame"
        )
        send_message(browser, "Tell me about the moon.")
        wait_until(
            lambda: int(browser.find_element("id", "assistant-played").text) > 0,
            timeout_s=120,
            what="a reply sentence played",
        )
        # Frames of the reply, drawn at their times against the sentence's playback.
        wait_until(
            lambda: int(browser.find_element("id", "assistant-frames").text) >= 10,
            timeout_s=30,
            what="the reply's frames drawn",
        )
        assert not is_blank(canvas.screenshot_as_png)
        assert canvas.size["width"] > 100
        screenshot(browser, tmp_path, "live-assistant-avatar")
        assert not severe_logs(browser)
    finally:
        open_page(browser, stack, "jobs")  # leaving the tab ends the session


def test_the_live_face_swap_draws_swapped_frames(
    browser: Any, stack: Stack, tmp_path: Path
) -> None:
    open_page(browser, stack, "live-face-swap")
    source = wait_until(
        lambda: browser.find_elements("id", "swap-source"), timeout_s=20, what="tab"
    )
    source[0].send_keys(str(HOPPER))
    browser.find_element("id", "swap-start").click()
    try:
        wait_until(
            lambda: int(browser.find_element("id", "swap-fps-shown").text) > 0,
            timeout_s=120,
            what="swapped frames at fps > 0",
        )
        canvas = browser.find_element("id", "swap-output")
        assert not is_blank(canvas.screenshot_as_png)
        screenshot(browser, tmp_path, "live-face-swap")
    finally:
        open_page(browser, stack, "jobs")
    assert severe_logs(browser) == []


def test_the_live_voice_plays_converted_microphone_audio(
    browser: Any, stack: Stack, devices: tuple[Path, Path], tmp_path: Path
) -> None:
    open_page(browser, stack, "live-voice")
    reference = wait_until(
        lambda: browser.find_elements("id", "voice-reference"), timeout_s=20, what="tab"
    )
    reference[0].send_keys(str(devices[0]))  # the question, in Piper joe's voice
    browser.find_element("id", "voice-start").click()
    try:
        wait_until(
            lambda: float(browser.find_element("id", "voice-converted").text) >= 1.0,
            timeout_s=120,
            what="a second of converted audio played",
        )
        wait_until(
            lambda: browser.find_element("id", "voice-latency").text != "–",
            timeout_s=30,
            what="the session's stats",
        )
        screenshot(browser, tmp_path, "live-voice")
    finally:
        open_page(browser, stack, "jobs")  # leaving the tab ends the session
    assert severe_logs(browser) == []


def test_a_transcript_shows_its_timestamps(
    browser: Any, stack: Stack, devices: tuple[Path, Path]
) -> None:
    submit_form(browser, stack, "stt")
    browser.find_element("css selector", "[data-file='file']").send_keys(str(devices[0]))
    browser.find_element("css selector", "form[data-pipeline='stt'] button[type=submit]").click()
    job_page_id(browser)
    lines = wait_until(
        lambda: browser.find_elements("css selector", "#job-outputs .transcript p"),
        timeout_s=120,
        what="the transcript",
    )
    assert "France" in " ".join(line.text for line in lines)
    assert lines[0].find_element("css selector", "time").text.startswith("00:00.")


def test_dark_and_phone_width(browser: Any, stack: Stack, tmp_path: Path) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    browser.set_window_size(375, 800)
    try:
        submit_form(browser, stack, "face-swap")
        reference = browser.find_element("css selector", "[data-file='reference']")
        assert not reference.is_displayed(), "reference is for mode=reference only"
        mode = browser.find_element("css selector", "select[data-param='mode']")
        mode.send_keys("reference")  # the keyboard picks the option
        assert reference.is_displayed() and reference.get_attribute("required") == "true"
        background = script(browser, "return getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(21, 23, 28)"
        assert script(browser, TOO_WIDE) == [], "the page scrolls sideways on a phone"
        screenshot(browser, tmp_path, "phone-dark")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        browser.set_window_size(1280, 1000)

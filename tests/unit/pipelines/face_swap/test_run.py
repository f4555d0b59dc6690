"""The face-swap pipeline in-process: identity moves, formats follow the target, bad faces fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from tests import bombs
from tests.faces import ASTRONAUT, HOPPER, derive_face, find_face
from visiovox.config import Settings
from visiovox.config_storage import VideoSettings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.pool import EnginePool
from visiovox.errors import PipelineError
from visiovox.jobs.model import EventType
from visiovox.media.image import read_image, write_image
from visiovox.pipelines.face_swap import spec as face_swap
from visiovox.pipelines.testing import LocalContext, run_pipeline


@pytest.fixture(scope="module")
def other_png(
    tmp_path_factory: pytest.TempPathFactory, faces: tuple[FaceDetector, FaceLandmarker]
) -> Path:
    astronaut = read_image(ASTRONAUT)
    path = tmp_path_factory.mktemp("faces") / "other.png"
    write_image(path, derive_face(astronaut, find_face(*faces, astronaut).points))
    return path


@pytest.fixture(scope="module")
def blank_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("blank") / "blank.png"
    write_image(path, np.full((200, 300, 3), 90, dtype=np.uint8))
    return path


def swap(
    root: Path, pool: EnginePool, *, source: Path, target: Path, **params: object
) -> LocalContext:
    ctx = LocalContext.with_files(root=root, pool=pool, files={"source": source, "target": target})
    run_pipeline(face_swap.SPEC, params, ctx)
    return ctx


def test_swap_moves_identity(
    tmp_path: Path,
    engine_pool: EnginePool,
    faces: tuple[FaceDetector, FaceLandmarker],
    other_png: Path,
) -> None:
    ctx = swap(tmp_path, engine_pool, source=other_png, target=ASTRONAUT)
    assert ctx.output_names() == ["swapped.png"]
    assert ctx.outputs[0].content_type == "image/png"
    embedder = engine_pool.get("face.embed", FaceEmbedder)
    try:
        vectors = []
        for path in (ctx.output_path("swapped.png"), ASTRONAUT, other_png):
            image = read_image(path)
            vectors.append(embedder.embed(image, find_face(*faces, image)))
    finally:
        engine_pool.release("face.embed")
    result, target, source = vectors
    assert np.linalg.norm(result - source) < np.linalg.norm(result - target)
    stages = [event["stage"] for event in ctx.of_type(EventType.STAGE)]
    assert stages == ["detect", "swap", "encode"]
    assert ctx.of_type(EventType.PROGRESS)[-1]["percent"] == 100.0


@pytest.mark.parametrize(("target", "expected"), [("astronaut", 1), ("pair", 2)])
def test_mode_all_swaps_real_faces_only(
    tmp_path: Path,
    engine_pool: EnginePool,
    other_png: Path,
    pair_png: Path,
    target: str,
    expected: int,
) -> None:
    # The faint false face HOG sees on the astronaut's suit is under face.hog_min_score.
    files = {"source": other_png, "target": ASTRONAUT if target == "astronaut" else pair_png}
    ctx = LocalContext.with_files(root=tmp_path, pool=engine_pool, files=files)
    result = run_pipeline(face_swap.SPEC, {"mode": "all"}, ctx)
    assert result is not None and result["faces"] == expected


def test_output_keeps_the_target_format(
    tmp_path: Path, engine_pool: EnginePool, other_png: Path
) -> None:
    target = tmp_path / "target.jpg"
    write_image(target, read_image(ASTRONAUT))
    ctx = swap(tmp_path / "job", engine_pool, source=other_png, target=target, blend=0.7)
    assert ctx.output_names() == ["swapped.jpg"]
    assert ctx.output_path("swapped.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert read_image(ctx.output_path("swapped.jpg")).shape == (512, 512, 3)


def test_source_without_a_face_fails_first(
    tmp_path: Path, engine_pool: EnginePool, blank_png: Path
) -> None:
    ctx = LocalContext.with_files(
        root=tmp_path, pool=engine_pool, files={"source": blank_png, "target": ASTRONAUT}
    )
    with pytest.raises(PipelineError) as caught:
        run_pipeline(face_swap.SPEC, {}, ctx)
    assert caught.value.code == "no_face_found" and "source" in caught.value.message
    assert [event["stage"] for event in ctx.of_type(EventType.STAGE)] == ["detect"]
    assert ctx.output_names() == []


def test_target_without_a_face(tmp_path: Path, engine_pool: EnginePool, blank_png: Path) -> None:
    with pytest.raises(PipelineError) as caught:
        swap(tmp_path, engine_pool, source=ASTRONAUT, target=blank_png)
    assert caught.value.code == "no_face_found" and "target" in caught.value.message


@pytest.mark.parametrize("params", [{"blend": 1.5}, {"mode": "some"}, {"engine": "gan"}])
def test_bad_params(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        face_swap.FaceSwapParams.model_validate(params)


def test_swap_in_a_video_keeps_its_audio(
    tmp_path: Path, engine_pool: EnginePool, other_png: Path
) -> None:
    from tests.faces import write_face_video
    from visiovox.media.kinds import MediaKind
    from visiovox.media.probe import probe_media

    target = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=6)
    ctx = swap(tmp_path / "job", engine_pool, source=other_png, target=target)
    assert ctx.output_names() == ["swapped.mp4"]
    assert ctx.outputs[0].content_type == "video/mp4"
    info = probe_media(ctx.output_path("swapped.mp4"), kind=MediaKind.VIDEO)
    assert info.has_audio and (info.width, info.height) == (256, 256)
    progress = ctx.of_type(EventType.PROGRESS)
    assert [event["message"] for event in progress[:-1]] == [f"frame {i}" for i in range(1, 7)]
    assert progress[-1]["percent"] == 100.0


def test_video_without_faces(tmp_path: Path, engine_pool: EnginePool, blank_png: Path) -> None:
    from tests.faces import write_face_video

    target = write_face_video(tmp_path / "blank.mp4", read_image(blank_png), frames=3)
    with pytest.raises(PipelineError) as caught:
        swap(tmp_path / "job", engine_pool, source=ASTRONAUT, target=target)
    assert caught.value.code == "no_face_found"
    assert not (tmp_path / "job" / "out" / "swapped.mp4").exists()


def test_video_frames_without_a_face_pass_unchanged(
    tmp_path: Path, engine_pool: EnginePool, other_png: Path
) -> None:
    from tests.faces import write_face_video
    from visiovox.media._av import av

    target = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=6, blank_every=2)
    ctx = LocalContext.with_files(
        root=tmp_path / "job", pool=engine_pool, files={"source": other_png, "target": target}
    )
    result = run_pipeline(face_swap.SPEC, {}, ctx)
    assert result is not None
    assert (result["frames"], result["frames_swapped"]) == (6, 3)
    with av.open(str(target)) as before, av.open(str(ctx.output_path("swapped.mp4"))) as after:
        assert after.streams.video[0].average_rate == before.streams.video[0].average_rate
        assert after.streams.audio[0].codec_context.name == "aac"
        old = [f.to_ndarray(format="rgb24").astype(int) for f in before.decode(video=0)]
        new = [f.to_ndarray(format="rgb24").astype(int) for f in after.decode(video=0)]
    assert len(new) == len(old) == 6
    # Blank frames only went through two lossy codecs; face frames changed around the face.
    assert all(np.abs(new[i] - old[i]).mean() < 2 for i in (0, 2, 4))
    assert all(np.abs(new[i] - old[i]).max() > 60 for i in (1, 3, 5))


def test_video_without_its_audio(tmp_path: Path, engine_pool: EnginePool, other_png: Path) -> None:
    from tests.faces import write_face_video
    from visiovox.media.kinds import MediaKind
    from visiovox.media.probe import probe_media

    target = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=2)
    ctx = swap(tmp_path / "job", engine_pool, source=other_png, target=target, keep_audio=False)
    assert not probe_media(ctx.output_path("swapped.mp4"), kind=MediaKind.VIDEO).has_audio


@pytest.fixture(scope="module")
def pair_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The astronaut (left) and Grace Hopper (right) side by side: two real people."""
    astronaut, hopper = read_image(ASTRONAUT), read_image(HOPPER)
    canvas = np.full((600, 1024, 3), 90, dtype=np.uint8)
    canvas[44:556, :512] = astronaut
    canvas[:, 512:] = hopper
    path = tmp_path_factory.mktemp("pair") / "pair.png"
    write_image(path, canvas)
    return path


@pytest.mark.parametrize("who", ["astronaut", "hopper"])
def test_reference_mode_swaps_only_the_matching_face(
    tmp_path: Path, engine_pool: EnginePool, other_png: Path, pair_png: Path, who: str
) -> None:
    import cv2

    # The reference is another picture of one of the two: mirrored, or smaller.
    picture = read_image(ASTRONAUT if who == "astronaut" else HOPPER)
    picture = cv2.flip(picture, 1) if who == "astronaut" else cv2.resize(picture, (384, 450))
    reference = tmp_path / "reference.png"
    write_image(reference, picture)
    files = {"source": other_png, "target": pair_png, "reference": reference}
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files=files)
    result = run_pipeline(face_swap.SPEC, {"mode": "reference"}, ctx)
    assert result is not None and result["faces"] == 1
    before, after = read_image(pair_png).astype(int), read_image(ctx.output_path("swapped.png"))
    changed = np.abs(after - before).max(axis=2) > 0
    swapped, kept = (changed[:, :512], changed[:, 512:])
    if who == "hopper":
        swapped, kept = kept, swapped
    assert swapped.mean() > 0.01 and not kept.any()


def test_reference_mode_without_a_match_or_a_reference(
    tmp_path: Path, engine_pool: EnginePool, other_png: Path
) -> None:
    files = {"source": other_png, "target": HOPPER, "reference": ASTRONAUT}
    ctx = LocalContext.with_files(root=tmp_path / "a", pool=engine_pool, files=files)
    with pytest.raises(PipelineError) as caught:
        run_pipeline(face_swap.SPEC, {"mode": "reference"}, ctx)
    assert caught.value.code == "no_face_found" and "reference" in caught.value.message
    # A threshold above the two people's distance (~0.68) counts Hopper as a match.
    ctx = LocalContext.with_files(root=tmp_path / "b", pool=engine_pool, files=files)
    result = run_pipeline(face_swap.SPEC, {"mode": "reference", "reference_threshold": 0.9}, ctx)
    assert result is not None and result["faces"] == 1
    with pytest.raises(PipelineError) as caught:
        swap(tmp_path / "c", engine_pool, source=other_png, target=HOPPER, mode="reference")
    assert caught.value.code == "missing_input"


def test_image_format_can_be_chosen(
    tmp_path: Path, engine_pool: EnginePool, other_png: Path
) -> None:
    ctx = swap(tmp_path, engine_pool, source=other_png, target=ASTRONAUT, image_format="webp")
    assert ctx.output_names() == ["swapped.webp"]
    assert ctx.outputs[0].content_type == "image/webp"
    data = ctx.output_path("swapped.webp").read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def test_video_format_and_reference_in_a_video(
    tmp_path: Path, engine_pool: EnginePool, other_png: Path
) -> None:
    from tests.faces import write_face_video
    from visiovox.media._av import av

    target = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=4)
    ctx = swap(
        tmp_path / "a", engine_pool, source=other_png, target=target, video_format="vp9-webm"
    )
    assert ctx.output_names() == ["swapped.webm"]
    assert ctx.outputs[0].content_type == "video/webm"
    with av.open(str(ctx.output_path("swapped.webm"))) as out:
        assert out.streams.video[0].codec_context.name == "vp9"
        assert out.streams.audio[0].codec_context.name == "opus"
        assert len(list(out.decode(video=0))) == 4
    files = {"source": other_png, "target": target, "reference": HOPPER}
    ctx = LocalContext.with_files(root=tmp_path / "b", pool=engine_pool, files=files)
    with pytest.raises(PipelineError) as caught:
        run_pipeline(face_swap.SPEC, {"mode": "reference"}, ctx)
    assert caught.value.code == "no_face_found"


def test_video_over_the_frame_cap_fails_clearly(
    tmp_path: Path, model_settings: Settings, other_png: Path
) -> None:
    from tests.faces import write_face_video

    target = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=4)
    capped = model_settings.model_copy(update={"video": VideoSettings(max_frames=3)})
    pool = EnginePool(settings=capped, device="cpu")
    try:
        with pytest.raises(PipelineError) as caught:
            swap(tmp_path / "job", pool, source=other_png, target=target)
    finally:
        pool.close()
    assert caught.value.code == "too_long" and "3 frames" in caught.value.message
    assert not (tmp_path / "job" / "out" / "swapped.mp4").exists()


@pytest.mark.parametrize(
    ("field", "name", "data", "code"),
    [
        ("target", "bad-checksum.png", bombs.png_with_bad_crc(64, 64), "invalid_media"),
        ("source", "blank.gif", bombs.gif(screen=(64, 64), images=((64, 64),)), "invalid_media"),
        ("target", "bomb.webp", bombs.webp_lossless(7_000, 7_000), "too_large"),
    ],
    ids=["png-bad-checksum", "gif-opencv-refuses", "webp-over-the-pixel-cap"],
)
def test_unreadable_images_fail_with_their_media_code(
    tmp_path: Path, engine_pool: EnginePool, field: str, name: str, data: bytes, code: str
) -> None:
    """FFmpeg reads the first two at the gateway but OpenCV cannot; the third is over the cap."""
    path = tmp_path / name
    path.write_bytes(data)
    files = {"source": ASTRONAUT, "target": ASTRONAUT, field: path}
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files=files)
    with pytest.raises(PipelineError) as caught:
        run_pipeline(face_swap.SPEC, {}, ctx)
    assert caught.value.code == code and caught.value.message.startswith(f"{field}: ")
    assert ctx.output_names() == []

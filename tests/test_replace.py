"""Sky replacement (skyseg_client.replace): the new sky inside the mask, the foreground outside it
nudged toward the new sky's light, a soft edge between, and clear errors for mismatched inputs."""
import cv2
import numpy as np
import pytest

from skyseg_client.replace import cover, replace_sky, sky_matte


def _street():
    image = np.full((120, 160, 3), (90, 110, 100), np.uint8)  # grey-green ground
    image[:50] = (200, 200, 200)  # an overcast sky above row 50
    mask = np.zeros((120, 160), np.uint8)
    mask[:50] = 255
    return image, mask


def test_the_new_sky_fills_the_mask_and_the_edge_is_soft():
    image, mask = _street()
    sunset = np.zeros((300, 400, 3), np.uint8)
    sunset[:] = (60, 120, 240)  # BGR orange
    out = replace_sky(image, mask, sunset, harmonize=0.0)
    assert np.abs(out[:40].astype(int) - (60, 120, 240)).max() <= 2  # inside the sky: the new one
    np.testing.assert_array_equal(out[60:], image[60:])  # far from the edge, harmonize 0: untouched
    edge = out[50, 80].astype(int)
    assert not np.array_equal(edge, image[50, 80]) and not np.array_equal(edge, (60, 120, 240))  # blended


def test_the_foreground_takes_on_some_of_the_new_skys_light():
    image, mask = _street()
    sunset = np.full((300, 400, 3), (60, 120, 240), np.uint8)
    plain, nudged = replace_sky(image, mask, sunset, harmonize=0.0), replace_sky(image, mask, sunset, harmonize=0.5)
    ground = lambda img: cv2.cvtColor(img[80:], cv2.COLOR_BGR2LAB).reshape(-1, 3).mean(axis=0)
    assert ground(nudged)[2] > ground(plain)[2] + 5  # Lab b: warmer, toward the orange sky
    assert np.abs(ground(nudged) - ground(plain)).max() < 40  # a nudge, not a repaint


def test_cover_keeps_the_aspect_and_the_top_of_the_sky():
    sky = np.zeros((100, 200, 3), np.uint8)
    sky[:10] = 255  # a white band at its top
    out = cover(sky, 50, 80)
    assert out.shape == (80, 50, 3)
    assert out[:5].min() == 255  # cropped from the top: the band is still there


def test_no_sky_returns_the_image_and_mismatches_are_refused():
    image, mask = _street()
    np.testing.assert_array_equal(replace_sky(image, np.zeros_like(mask), image), image)
    with pytest.raises(ValueError, match="does not match"):
        replace_sky(image, mask[:10], image)
    with pytest.raises(ValueError, match="HxWx3"):
        replace_sky(image[..., 0], mask, image)
    assert sky_matte(mask, feather=0).max() == 1.0


def _cli(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "skyseg_client.cli", *args], capture_output=True, text=True, timeout=300)


def test_the_replace_command_writes_the_same_photo_locally_and_through_the_server(triton_server, tmp_path):
    from skyseg import samples

    cv2.imwrite(str(tmp_path / "street.jpg"), samples.render_scene(640, 480, seed=3))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a whole JPEG")
    cv2.imwrite(str(tmp_path / "sunset.jpg"), np.full((200, 300, 3), (60, 120, 240), np.uint8))
    photos = [str(tmp_path / "street.jpg"), str(tmp_path / "broken.jpg")]
    local = _cli("replace", *photos, "--sky", str(tmp_path / "sunset.jpg"), "-o", str(tmp_path / "local"), "--local")
    served = _cli("replace", *photos, "--sky", str(tmp_path / "sunset.jpg"), "-o", str(tmp_path / "served"),
                  "--url", triton_server.grpc_url)
    for done in (local, served):
        assert done.returncode == 1 and "1 of 2 photos" in done.stdout  # the corrupt one fails alone
        assert "FAILED" in done.stdout and "broken.jpg" in done.stdout and "could not be decoded" in done.stdout
    a, b = (cv2.imread(str(tmp_path / d / "street_sky.jpg")) for d in ("local", "served"))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a[:20].astype(int) - (60, 120, 240)).mean() < 20  # the new sky at the top


def test_the_replace_command_names_a_bad_sky_and_a_missing_server(tmp_path):
    cv2.imwrite(str(tmp_path / "p.jpg"), np.zeros((40, 40, 3), np.uint8))
    (tmp_path / "sky.txt").write_text("not an image")
    done = _cli("replace", str(tmp_path / "p.jpg"), "--sky", str(tmp_path / "sky.txt"), "-o", str(tmp_path / "o"), "--local")
    assert done.returncode == 1 and "--sky" in done.stderr and "not a readable image" in done.stderr
    from skyseg.serving import free_port

    done = _cli("replace", str(tmp_path / "p.jpg"), "--sky", str(tmp_path / "p.jpg"), "-o", str(tmp_path / "o"),
                "--url", f"127.0.0.1:{free_port()}")
    assert done.returncode == 1 and "no skyseg server answers" in done.stderr and "--local" in done.stderr


def test_a_video_with_its_sky_replaced_locally(tmp_path):
    from skyseg import samples

    samples.write_video(tmp_path / "pan.mp4", frames=6)
    cv2.imwrite(str(tmp_path / "sunset.jpg"), np.full((200, 300, 3), (60, 120, 240), np.uint8))
    done = _cli("video", str(tmp_path / "pan.mp4"), "-o", str(tmp_path / "out.mp4"), "--local",
                "--replace-sky", str(tmp_path / "sunset.jpg"))
    assert done.returncode == 0, done.stdout + done.stderr
    video = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    ok, frame = video.read()
    assert ok and int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    assert np.abs(frame[:20].astype(int) - (60, 120, 240)).mean() < 40  # the new sky at the top (mp4v aside)

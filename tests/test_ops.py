"""The serving ops: letterbox geometry and the one-step upsampling against MMSeg's two steps."""
import dataclasses
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skyseg import ops
from skyseg.ops import refinement

MEAN, STD = np.float32([123.675, 116.28, 103.53]), np.float32([58.395, 57.12, 57.375])
INPUT_HW = (384, 512)


@pytest.mark.parametrize("h,w", [(360, 480), (1080, 1920), (800, 800), (1, 1), (3, 1001), (1000, 7)])
def test_letterbox_keeps_aspect_and_fits(h, w):
    rgb = np.full((h, w, 3), 200, np.uint8)
    tensor, (oh, ow, rh, rw) = ops.letterbox(rgb, INPUT_HW, MEAN, STD)
    assert tensor.shape == (3, *INPUT_HW) and (oh, ow) == (h, w)
    assert 1 <= rh <= INPUT_HW[0] and 1 <= rw <= INPUT_HW[1]
    assert rh == INPUT_HW[0] or rw == INPUT_HW[1]  # one side fills the canvas
    scale = min(INPUT_HW[0] / h, INPUT_HW[1] / w)
    assert abs(rh - max(h * scale, 1)) <= 0.5 and abs(rw - max(w * scale, 1)) <= 0.5  # same aspect
    assert np.all(tensor[:, rh:, :] == 0) and np.all(tensor[:, :, rw:] == 0)  # padding = mean colour


@pytest.mark.parametrize("h,w,canvas", [(360, 480, (384, 512)), (1080, 1920, (288, 512)), (540, 960, (288, 512)),
                                         (1920, 1080, (384, 224)), (1, 1, (384, 384)), (3, 1001, (32, 512)),
                                         (1000, 7, (384, 32))])
def test_canvas_follows_the_aspect_padded_to_the_divisor(h, w, canvas):
    """MMSeg's test-time size_divisor: only the padding to a multiple of 32 is computed, never a fixed box."""
    rgb = np.full((h, w, 3), 200, np.uint8)
    tensor, geometry, guide = ops.prepare(rgb, INPUT_HW, MEAN, STD, size_divisor=32)
    assert tensor.shape == (3, *canvas) and guide.shape == canvas
    oh, ow, rh, rw = geometry
    assert (oh, ow) == (h, w) and (rh, rw) == ops.fit((h, w), INPUT_HW)
    assert np.all(tensor[:, rh:, :] == 0) and np.all(tensor[:, :, rw:] == 0) and np.all(guide[rh:, :] == 0)
    assert np.all(tensor[:, :rh, :rw] != 0) and np.all(guide[:rh, :rw] > 0)


def _reference_mask(logits, geometry, canvas_hw=INPUT_HW):
    """MMSeg's path: upsample logits to the input size, crop the letterbox, resize to original, argmax."""
    oh, ow, rh, rw = geometry
    x = torch.from_numpy(logits[None])
    x = F.interpolate(x, size=tuple(canvas_hw), mode="bilinear", align_corners=False)[:, :, :rh, :rw]
    x = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False)
    return (x.argmax(1)[0].numpy() == 1).astype(np.uint8) * 255


@pytest.mark.parametrize("h,w", [(360, 480), (540, 960), (1080, 1920), (300, 1000)])
def test_one_step_upsampling_agrees_with_mmseg_two_steps(h, w):
    rng = np.random.default_rng(h * w)
    smooth = F.interpolate(torch.from_numpy(rng.normal(size=(1, 2, 12, 16)).astype(np.float32)),
                           size=(48, 64), mode="bilinear", align_corners=False)[0].numpy()
    _, geometry = ops.letterbox(np.zeros((h, w, 3), np.uint8), INPUT_HW, MEAN, STD)
    ours = ops.logits_to_mask(smooth, geometry, INPUT_HW, sky_index=1)
    assert ours.shape == (h, w) and set(np.unique(ours)) <= {0, 255}
    agreement = np.mean(ours == _reference_mask(smooth, geometry))
    assert agreement > 0.995, agreement  # differences only on the decision boundary


@pytest.mark.parametrize("h,w", [(540, 960), (1080, 1920), (1920, 1080)])
def test_one_step_upsampling_agrees_on_aspect_following_canvases(h, w):
    tensor, geometry, _ = ops.prepare(np.zeros((h, w, 3), np.uint8), INPUT_HW, MEAN, STD, size_divisor=32)
    canvas = tensor.shape[1:]
    rng = np.random.default_rng(h * w)
    smooth = F.interpolate(torch.from_numpy(rng.normal(size=(1, 2, canvas[0] // 32, canvas[1] // 32)).astype(np.float32)),
                           size=(canvas[0] // 8, canvas[1] // 8), mode="bilinear", align_corners=False)[0].numpy()
    ours = ops.logits_to_mask(smooth, geometry, canvas, sky_index=1)
    assert ours.shape == (h, w)
    assert np.mean(ours == _reference_mask(smooth, geometry, canvas)) > 0.995


@pytest.mark.parametrize("data,match", [(b"", "empty"), (b"GIF89a not really", "could not be decoded")])
def test_bad_bytes_name_the_problem(data, match):
    with pytest.raises(ops.BadImageError, match=match):
        ops.decode_image(data)


def test_frame_validation():
    with pytest.raises(ops.BadImageError, match="UINT8"):
        ops.check_frame(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ops.BadImageError, match=r"\[H, W, 3\]"):
        ops.check_frame(np.zeros((4, 4), np.uint8))


def _jpeg(image: np.ndarray, exif_orientation: int | None = None) -> bytes:
    import cv2

    data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    if exif_orientation is None:
        return data
    # A minimal APP1 Exif segment (little-endian TIFF, one IFD entry: Orientation) after SOI.
    tiff = b"II*\x00\x08\x00\x00\x00" + b"\x01\x00" + b"\x12\x01\x03\x00\x01\x00\x00\x00" \
        + exif_orientation.to_bytes(2, "little") + b"\x00\x00" + b"\x00\x00\x00\x00"
    payload = b"Exif\x00\x00" + tiff
    return data[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]


@pytest.mark.parametrize("h,w,orientation", [(1080, 1920, None), (1081, 1923, None), (2000, 1500, None),
                                             (1080, 1920, 6), (360, 480, None)])
def test_reduced_decode_returns_the_original_size_and_the_same_letterbox(h, w, orientation):
    """A big JPEG is decoded at 1/2..1/8 but its geometry is the full image's, as a full decode gives."""
    rng = np.random.default_rng(0)
    image = cv2_smooth(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
    data = _jpeg(image, orientation)
    full = ops.decode_image(data)
    reduced, original_hw = ops.decode_for_model(data, INPUT_HW)
    assert tuple(original_hw) == full.shape[:2]
    if max(h, w) >= 2 * max(INPUT_HW):
        assert reduced.shape[0] < full.shape[0]  # really decoded at reduced scale
    a, geometry_a = ops.letterbox(full, INPUT_HW, MEAN, STD)
    b, geometry_b = ops.letterbox(reduced, INPUT_HW, MEAN, STD, original_hw=original_hw)
    assert geometry_a == geometry_b
    assert np.abs(a - b).mean() < 0.05  # same picture: only resampling differences (in std units)


def cv2_smooth(noise: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(noise, (0, 0), 8)


@pytest.mark.parametrize("subsample", [1, 4])
def test_refinement_snaps_the_boundary_to_the_image_edge(subsample):
    """Coarse logits put the sky edge ~6 px off; the guided filter (plain or fast) moves it onto the image's edge."""
    h, w = INPUT_HW
    horizon = 203  # not on the 8-px logit grid
    image = np.full((h, w, 3), 60, np.uint8)
    image[:horizon] = (150, 190, 240)  # bright sky over dark ground
    rgb_edge = np.zeros((h, w), bool)
    rgb_edge[:horizon] = True
    logits = np.zeros((2, h // 8, w // 8), np.float32)
    logits[1, : (horizon + 6) // 8] = 4.0  # the network's coarse, offset guess
    logits[0, (horizon + 6) // 8:] = 4.0
    guide = np.zeros(INPUT_HW, np.uint8)
    _, geometry = ops.letterbox(image, INPUT_HW, MEAN, STD, guide=guide)
    plain = ops.logits_to_mask(logits, geometry, INPUT_HW, 1) == 255
    refined = ops.logits_to_mask(logits, geometry, INPUT_HW, 1, guide,
                                 ops.Refinement(radius=24, subsample=subsample)) == 255
    assert np.count_nonzero(refined != rgb_edge) < 0.5 * np.count_nonzero(plain != rgb_edge)
    assert abs(int(refined[:, w // 2].sum()) - horizon) <= 1


def _sky_over_a_sky_grey_wall():
    """Sky and a wall of the same grey 8 px below the horizon, and a perfect but
    coarse network (stride 8, confident away from the horizon)."""
    h, w = INPUT_HW
    horizon = 203
    image = np.full((h, w, 3), 60, np.uint8)
    image[:horizon] = 200
    image[horizon + 8:horizon + 48, 100:260] = 200  # the wall: sky-grey, not sky
    truth = np.zeros((h, w), bool)
    truth[:horizon] = True
    fraction = cv2.resize(truth.astype(np.float32), (w // 8, h // 8), interpolation=cv2.INTER_AREA)
    margin = np.clip(16.0 * (fraction - 0.5), -8.0, 8.0)  # |2p - 1| > 0.999 off the horizon's cells
    logits = np.stack([np.zeros_like(margin), margin]).astype(np.float32)
    guide = np.zeros(INPUT_HW, np.uint8)
    _, geometry = ops.letterbox(image, INPUT_HW, MEAN, STD, guide=guide)
    return logits, geometry, guide, truth, horizon


def test_trusting_the_confident_network_stops_the_filter_leaking_onto_sky_grey_walls():
    """The guided filter's local linear model gives a sky-grey wall near the sky a sky probability;
    with ``trust`` it acts only where the network is unsure, so the wall stays ground and the
    horizon still snaps onto the image's edge."""
    logits, geometry, guide, truth, horizon = _sky_over_a_sky_grey_wall()
    filter_only = ops.Refinement(radius=48, eps=1e-4, subsample=4)
    plain = ops.logits_to_mask(logits, geometry, INPUT_HW, 1, guide, filter_only) == 255
    trusted = ops.logits_to_mask(logits, geometry, INPUT_HW, 1, guide,
                                 dataclasses.replace(filter_only, trust=(0.95, 0.995))) == 255
    assert np.count_nonzero(plain != truth) > 300  # the leak this guards against is real (688 px)
    assert np.count_nonzero(trusted != truth) < 0.1 * np.count_nonzero(plain != truth)
    assert int(trusted[:, 400].sum()) == horizon


def test_trust_of_one_is_the_plain_filter():
    logits, geometry, guide, _, _ = _sky_over_a_sky_grey_wall()
    plain = ops.refine(logits, guide, geometry, INPUT_HW, 1, ops.Refinement(48, 1e-4, 4))
    np.testing.assert_array_equal(plain, ops.refine(logits, guide, geometry, INPUT_HW, 1, ops.Refinement(48, 1e-4, 4, (1.0, 1.0))))


#: The served guided filter's settings (R8), under the learned steps of the tests below.
GUIDED = ops.Refinement(48, 1e-4, 4, (0.95, 0.995))
LEARNED = (2.47, 2.74, 1.21, -1.38, 3.56, -0.21, 1.01, 1.17, -0.99)  # the shape of a fitted set


def _band_mask(shape, index):
    """The (rh, rw) mask of the band pixels that ``learned_features`` returns as flat indices."""
    band = np.zeros(shape, bool)
    band.reshape(-1)[index] = True
    return band


def test_learned_refinement_changes_only_the_uncertain_band():
    logits, geometry, guide, _, _ = _sky_over_a_sky_grey_wall()
    args = (logits, guide, geometry, INPUT_HW, 1)
    refined, margin, small_grey, grey = ops.guided_refinement(*args, GUIDED)
    features, index = ops.learned_features(refined, margin, small_grey, grey, 4)
    band = _band_mask(refined.shape, index)
    assert features.shape == (len(index), len(ops.LEARNED_FEATURES))
    plain = ops.refine(*args, GUIDED).astype(int)
    learned = ops.refine(*args, dataclasses.replace(GUIDED, learned=LEARNED)).astype(int)
    assert 0 < np.count_nonzero(band) < 0.2 * band.size  # a band along the horizon, not the image
    np.testing.assert_array_equal(plain[~band], learned[~band])
    assert np.count_nonzero(plain[band] != learned[band]) > 0.5 * np.count_nonzero(band)


def test_learned_weights_follow_the_feature_order():
    """Only the last weight (the bias) set: every band pixel becomes sigmoid(bias)."""
    logits, geometry, guide, _, _ = _sky_over_a_sky_grey_wall()
    args = (logits, guide, geometry, INPUT_HW, 1)
    refined, margin, small_grey, grey = ops.guided_refinement(*args, GUIDED)
    _, index = ops.learned_features(refined, margin, small_grey, grey, 4)
    band = _band_mask(refined.shape, index)
    assert ops.LEARNED_FEATURES[-1] == "bias"
    weights = (0.0,) * (len(ops.LEARNED_FEATURES) - 1) + (2.0,)
    out = ops.refine(*args, dataclasses.replace(GUIDED, learned=weights))
    assert set(np.unique(out[band])) == {int(255 / (1 + np.exp(-2.0)))}


def test_served_learned_logit_equals_the_fitted_features_times_the_weights():
    """The postprocess evaluates the weighted sum term by term; ``skyseg fit-refine`` fits it on
    ``learned_features``' matrix. Each weight alone must select the same feature in both."""
    logits, geometry, guide, _, _ = _sky_over_a_sky_grey_wall()
    refined, margin, small_grey, grey = ops.guided_refinement(logits, guide, geometry, INPUT_HW, 1, GUIDED)
    features, index = ops.learned_features(refined, margin, small_grey, grey, 4)
    served_index, columns = refinement._band_columns(refined, margin, small_grey, grey, 4)
    np.testing.assert_array_equal(index, served_index)
    for weights in [LEARNED, *np.eye(len(ops.LEARNED_FEATURES))]:
        np.testing.assert_allclose(refinement._learned_logit(columns, weights), features @ np.float32(weights),
                                   rtol=1e-5, atol=1e-5)


def _cascade(cut=2.0, hidden=4, b3=0.0, rng=None):
    """A flat cascade vector (``ops.cascade_layers``' layout): random layers, or with no ``rng`` all
    weights zero so that the MLP answers ``b3`` everywhere."""
    n = len(ops.CASCADE_FEATURES)
    sizes = [hidden * n, hidden, hidden * hidden, hidden, hidden]
    values = [rng.normal(0, 0.5, size) if rng is not None else np.zeros(size) for size in sizes]
    return (cut, float(n), float(hidden), *np.concatenate(values), b3)


def test_cascade_changes_only_the_band_pixels_the_logistic_is_least_sure_of():
    logits, geometry, guide, _, _ = _sky_over_a_sky_grey_wall()
    args = (logits, guide, geometry, INPUT_HW, 1)
    refined, margin, small_grey, grey = ops.guided_refinement(*args, GUIDED)
    index, columns = refinement._band_columns(refined, margin, small_grey, grey, 4)
    unsure = np.zeros(refined.shape, bool)
    unsure.reshape(-1)[index[np.abs(refinement._learned_logit(columns, LEARNED)) < 2.0]] = True
    assert 0 < np.count_nonzero(unsure) < len(index)  # a part of the band, not none or all of it
    r11 = ops.refine(*args, dataclasses.replace(GUIDED, learned=LEARNED))
    cascaded = ops.refine(*args, dataclasses.replace(GUIDED, learned=LEARNED, cascade=_cascade(b3=3.0)))
    assert set(np.unique(cascaded[unsure])) == {int(255 / (1 + np.exp(-3.0)))}
    np.testing.assert_array_equal(cascaded[~unsure], r11[~unsure])
    off = dataclasses.replace(GUIDED, learned=LEARNED, cascade=())  # () = off
    np.testing.assert_array_equal(ops.refine(*args, off), r11)


def test_cascade_features_are_the_band_columns_then_the_local_grey_rise_and_fall():
    rng = np.random.default_rng(3)
    guide = cv2.GaussianBlur(rng.integers(0, 256, (40, 60), dtype=np.uint8), (5, 5), 0)
    index = rng.choice(guide.size, 50, replace=False)
    g = guide.reshape(-1)[index].astype(np.float32) / 255
    columns = tuple(rng.normal(size=50).astype(np.float32) for _ in range(2)) + (g,) + \
        tuple(rng.normal(size=50).astype(np.float32) for _ in range(2))
    features = ops.cascade_features(columns, guide, index)
    assert features.shape == (50, len(ops.CASCADE_FEATURES))
    m, r, _, c5, c20 = columns
    np.testing.assert_allclose(features[:, :8], np.stack([m, r, g, c5, c20, r * g, m * g, r * c20], 1), rtol=1e-6)
    for j, name in enumerate(ops.CASCADE_FEATURES[8:], start=8):
        k = int(name[4:])  # "rise5", "fall17", ...
        for row, flat in enumerate(index):
            y, x = divmod(int(flat), guide.shape[1])
            window = guide[max(0, y - k // 2):y + k // 2 + 1, max(0, x - k // 2):x + k // 2 + 1] / 255
            expected = window.max() - g[row] if name.startswith("rise") else g[row] - window.min()
            assert features[row, j] == pytest.approx(expected, abs=1e-6), (name, row)


def test_cascade_logit_is_the_mlp_its_vector_describes():
    """Each layer is stored out x in, row-major: a transposed layer would still run, and be wrong."""
    rng = np.random.default_rng(4)
    vector = _cascade(hidden=5, b3=0.7, rng=rng)
    n, h = len(ops.CASCADE_FEATURES), 5
    flat = np.asarray(vector[3:])
    w1, b1 = flat[:h * n].reshape(h, n), flat[h * n:h * n + h]
    w2, b2 = flat[h * n + h:h * n + h + h * h].reshape(h, h), flat[h * n + h + h * h:h * n + 2 * h + h * h]
    w3, b3 = flat[-h - 1:-1], flat[-1]
    x = rng.normal(size=(30, n)).astype(np.float32)
    expected = np.maximum(np.maximum(x @ w1.T + b1, 0) @ w2.T + b2, 0) @ w3 + b3
    cut, layers = ops.cascade_layers(vector)
    assert cut == 2.0
    np.testing.assert_allclose(ops.cascade_logit(x, layers), expected, rtol=1e-4, atol=1e-5)


def test_a_cascade_that_does_not_fit_the_served_features_is_refused_by_name():
    vector = _cascade()
    with pytest.raises(ValueError, match="reads 13 features"):
        ops.cascade_layers((vector[0], 13.0, *vector[2:]))
    with pytest.raises(ValueError, match="needs .* values, got"):
        ops.cascade_layers(vector[:-1])


@pytest.mark.parametrize("h,w,canvas", [(360, 480, (384, 512)), (1080, 1920, (288, 512)), (700, 333, (384, 192))])
def test_fast_guided_filter_matches_the_plain_one(h, w, canvas):
    """Fitting the coefficients on a 4x coarser grid changes the refined probability only slightly."""
    rng = np.random.default_rng(1)
    image = cv2_smooth(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
    tensor, geometry, guide = ops.prepare(image, INPUT_HW, MEAN, STD, size_divisor=32)
    assert guide.shape == canvas
    logits = rng.normal(0, 3, (2, canvas[0] // 8, canvas[1] // 8)).astype(np.float32)
    plain = ops.refine(logits, guide, geometry, canvas, 1, ops.Refinement(48, 1e-3, subsample=1)).astype(np.int16)
    fast = ops.refine(logits, guide, geometry, canvas, 1, ops.Refinement(48, 1e-3, subsample=4)).astype(np.int16)
    assert plain.shape == fast.shape == tuple(geometry[2:])
    assert np.abs(plain - fast).mean() < 3.0  # of 255
    assert np.mean((plain > 127) == (fast > 127)) > 0.98


def test_letterbox_normalises_like_mmseg():
    """(x - mean) / std per RGB channel, CHW, padding 0, also into a reused canvas holding old values."""
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 255, (300, 512, 3), dtype=np.uint8)
    out = np.full((3, 320, 512), 7.0, np.float32)  # a reused batch slot: stale values must not leak
    ops.letterbox(rgb, INPUT_HW, MEAN, STD, out=out)
    expected = ((rgb.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)
    np.testing.assert_allclose(out[:, :300], expected, atol=1e-5)
    assert np.all(out[:, 300:] == 0)


def test_1080p_jpeg_decodes_at_a_quarter():
    """270 rows for a 288-row canvas: within MAX_DECODE_UPSCALE, so libjpeg decodes at 1/4."""
    data = _jpeg(np.full((1080, 1920, 3), 90, np.uint8), None)
    reduced, original_hw = ops.decode_for_model(data, INPUT_HW)
    assert reduced.shape[:2] == (270, 480) and tuple(original_hw) == (1080, 1920)
    small = _jpeg(np.full((540, 960, 3), 90, np.uint8), None)
    assert ops.decode_for_model(small, INPUT_HW)[0].shape[:2] == (270, 480)  # 1/2 of 960x540


@pytest.mark.parametrize("h,w", [(1, 1), (3, 7), (5, 8), (4, 9), (2, 1001), (1080, 1920)])
def test_mask_bits_unpack_to_the_served_mask(h, w):
    """The server's pack_mask and the client's unpack_mask are inverses at any width, not only x8."""
    from skyseg_client import protocol

    rng = np.random.default_rng(h * 10007 + w)
    mask = np.where(rng.random((h, w)) < 0.4, 255, 0).astype(np.uint8)
    bits = ops.pack_mask(mask[None])
    assert bits.shape == (1, h, -(-w // 8)) and bits.dtype == np.uint8
    unpacked = protocol.unpack_mask(bits[0], w)
    assert unpacked.dtype == np.uint8 and unpacked.shape == (h, w)
    np.testing.assert_array_equal(unpacked, mask)


_FAULTS_SCRIPT = """
import resource, sys
import subprocess
import sys

import numpy as np
from skyseg import ops
from skyseg.ops import refinement
if sys.argv[1] == "keep":
    assert ops.keep_freed_memory()
logits = np.random.default_rng(0).standard_normal((2, 36, 64)).astype(np.float32)
guide = np.full((288, 512), 128, np.uint8)
run = lambda: ops.pack_mask(ops.logits_to_mask(logits, (1080, 1920, 288, 512), (288, 512), 1, guide, ops.Refinement(48, 1e-3, 4))[None])
for _ in range(5):
    run()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    run()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_kept_freed_memory_stops_the_page_faults_of_each_1080p_mask():
    """The stubs' 1080p postprocess faulted ~1000 fresh pages per request (1.5 core-ms of kernel
    time) until keep_freed_memory; each case runs in its own process, as mallopt is process-wide."""
    def faults(mode: str) -> float:
        out = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT, mode], check=True, capture_output=True, text=True)
        return float(out.stdout.split()[-1])

    plain, kept = faults("plain"), faults("keep")
    assert plain > 200, f"expected the plain allocator to fault per request, got {plain}"
    assert kept < 10, f"{kept} page faults per 1080p mask with freed memory kept"

"""The serving ops: letterbox geometry and the one-step upsampling against MMSeg's two steps."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skyseg import ops

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


def _reference_mask(logits, geometry):
    """MMSeg's path: upsample logits to the input size, crop the letterbox, resize to original, argmax."""
    oh, ow, rh, rw = geometry
    x = torch.from_numpy(logits[None])
    x = F.interpolate(x, size=INPUT_HW, mode="bilinear", align_corners=False)[:, :, :rh, :rw]
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


@pytest.mark.parametrize("data,match", [(b"", "empty"), (b"GIF89a not really", "could not be decoded")])
def test_bad_bytes_name_the_problem(data, match):
    with pytest.raises(ops.BadImageError, match=match):
        ops.decode_image(data)


def test_frame_validation():
    with pytest.raises(ops.BadImageError, match="UINT8"):
        ops.check_frame(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ops.BadImageError, match=r"\[H, W, 3\]"):
        ops.check_frame(np.zeros((4, 4), np.uint8))

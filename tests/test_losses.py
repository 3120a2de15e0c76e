"""The boundary-weighted cross-entropy (train/losses.py) through MMSeg's registry and a recipe."""

import pytest
import torch
import torch.nn.functional as F

from skyseg.labels import IGNORE, NOT_SKY, SKY
from skyseg.train.runner import DEFAULT_CONFIG, load_config

BOUNDARY_CONFIG = DEFAULT_CONFIG.parent / "experiments" / "bisenetv2_fcn_1xb4-2k-ft10-boundary_sky-384x512.py"


def _build(**kwargs):
    load_config(BOUNDARY_CONFIG)  # imports the config's custom modules, as training does
    from mmseg.registry import MODELS

    return MODELS.build(dict(type="BoundaryWeightedCELoss", **kwargs))


def _label() -> torch.Tensor:
    """A 12x10 frame: sky in rows 0-3, ground below, the right two columns ignored."""
    label = torch.full((1, 12, 10), NOT_SKY, dtype=torch.long)
    label[:, :4] = SKY
    label[:, :, 8:] = IGNORE
    return label


def test_band_is_both_sides_of_the_sky_boundary_and_never_an_ignored_pixel():
    from skyseg.train.losses import sky_boundary_band

    band = sky_boundary_band(_label(), radius=2)[0]
    assert band[2:6, :8].all()  # rows 2-3 (sky) and 4-5 (ground) are within 2 px of the boundary
    assert not band[:2].any() and not band[6:].any()
    assert not band[:, 8:].any()  # ignored columns, next to both classes, are not boundary


def test_ignore_next_to_sky_makes_no_boundary():
    from skyseg.train.losses import sky_boundary_band

    label = torch.full((1, 8, 8), IGNORE, dtype=torch.long)
    label[:, :4] = SKY
    assert not sky_boundary_band(label, radius=3).any()


def test_without_boost_it_is_cross_entropy_over_the_labelled_pixels():
    label, logits = _label(), torch.randn(1, 2, 12, 10)
    plain = F.cross_entropy(logits, label, ignore_index=IGNORE)
    assert torch.allclose(_build(boost=0.0)(logits, label), plain)


def test_boundary_pixels_pull_harder_by_the_boost():
    label = _label()
    logits = torch.zeros(1, 2, 12, 10, requires_grad=True)  # the same error at every pixel
    _build(radius=2, boost=3.0)(logits, label).backward()
    grad = logits.grad[0].abs().sum(0)
    assert torch.allclose(grad[3, 0], 4 * grad[0, 0])  # in the band / far from it
    assert grad[:, 8:].abs().max() == 0  # ignored pixels get no gradient


def test_sampler_weights_multiply_the_boundary_weights():
    label, logits = _label(), torch.randn(1, 2, 12, 10)
    loss = _build(boost=3.0)
    assert torch.allclose(loss(logits, label, weight=torch.zeros(1, 12, 10)), torch.tensor(0.0))
    assert torch.allclose(loss(logits, label, weight=torch.full((1, 12, 10), 2.0)), 2 * loss(logits, label))


def test_bad_parameters_are_refused_by_name():
    with pytest.raises(ValueError, match="radius"):
        _build(radius=0)


def test_the_e14_recipe_puts_it_on_the_decode_head():
    from mmseg.registry import MODELS

    model = MODELS.build(load_config(BOUNDARY_CONFIG).model)
    names = [loss.loss_name for loss in model.decode_head.loss_decode]
    assert names == ["loss_ce_boundary", "loss_lovasz"]

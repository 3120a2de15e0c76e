"""AnchoredEncoderDecoder (train/anchor.py): outdoor samples relabelled by a frozen reference network."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from skyseg.labels import IGNORE, NOT_SKY, SKY
from skyseg.train.runner import DEFAULT_CONFIG, load_config

ANCHORED_CONFIG = DEFAULT_CONFIG.parent / "experiments" / "bisenetv2_fcn_1xb4-distil-anchored-hardneg4_sky-384x512-cpu.py"


def _model(anchor, confident=0.7):
    cfg = load_config(ANCHORED_CONFIG)  # imports the config's custom modules, as training does
    from mmseg.registry import MODELS

    model_cfg = dict(cfg.model, anchor=str(anchor), confident=confident, auxiliary_head=None)
    return MODELS.build(model_cfg)


def _sample(indoor, label):
    sample = SegDataSample(gt_sem_seg=PixelData(data=label[None].clone()))
    if indoor is not None:
        sample.set_metainfo(dict(indoor=indoor))
    return sample


@pytest.fixture()
def anchored(tmp_path):
    """A model and its anchor: the same randomly initialised network, saved and reloaded."""
    torch.manual_seed(0)
    model = _model(tmp_path / "anchor.pth")
    torch.save({"state_dict": model.state_dict()}, tmp_path / "anchor.pth")
    return model


def test_the_reference_labels_its_confident_pixels_and_keeps_padding_ignored(anchored):
    inputs = torch.randn(2, 3, 64, 64)
    human = torch.full((2, 64, 64), NOT_SKY, dtype=torch.long)
    human[:, :, 48:] = IGNORE  # padding
    labels = anchored.reference_labels(inputs, human)
    logits = anchored.reference.decode_head(anchored.reference.extract_feat(inputs))
    sky = torch.nn.functional.interpolate(logits, size=(64, 64), mode="bilinear").softmax(1)[:, SKY]
    assert (labels[:, :, 48:] == IGNORE).all()
    keep = human != IGNORE
    assert torch.equal(labels[keep & (sky >= 0.7)], torch.full_like(labels[keep & (sky >= 0.7)], SKY))
    assert (labels[keep & (sky <= 0.3)] == NOT_SKY).all()
    assert (labels[keep & (sky > 0.3) & (sky < 0.7)] == IGNORE).all()


def test_indoor_samples_keep_their_labels_and_the_others_are_relabelled(anchored):
    inputs = torch.randn(3, 3, 64, 64)
    human = torch.full((64, 64), NOT_SKY, dtype=torch.long)
    samples = [_sample(1, human), _sample(0, human), _sample(None, human)]
    anchored.loss(inputs, samples)
    expected = anchored.reference_labels(inputs[1:], torch.stack([human, human]))
    assert torch.equal(samples[0].gt_sem_seg.data[0], human)
    assert torch.equal(samples[1].gt_sem_seg.data[0], expected[0])
    assert torch.equal(samples[2].gt_sem_seg.data[0], expected[1])


def test_training_moves_the_network_and_never_the_reference_or_its_checkpoint(anchored):
    before = {k: v.clone() for k, v in anchored.reference.state_dict().items()}
    optimizer = torch.optim.SGD(anchored.parameters(), lr=0.1)
    inputs = torch.randn(2, 3, 64, 64)
    sky = torch.full((64, 64), SKY, dtype=torch.long)
    anchored.train()
    losses = anchored.loss(inputs, [_sample(1, sky), _sample(1, sky)])
    sum(v for k, v in losses.items() if "loss" in k).backward()
    optimizer.step()
    assert all(torch.equal(before[k], v) for k, v in anchored.reference.state_dict().items())
    assert not anchored.reference.training
    assert not any(torch.equal(anchored.state_dict()[k], before[k]) for k in before if k.endswith("conv_seg.weight"))
    assert set(anchored.state_dict()) == set(before)  # the reference is not part of what a checkpoint saves


def test_a_missing_anchor_is_named_at_the_first_step_not_at_build(tmp_path):
    model = _model(tmp_path / "never_written.pth")  # builds: export and the config test need no anchor
    with pytest.raises(FileNotFoundError, match="no anchor checkpoint .*never_written.pth"):
        model.loss(torch.randn(1, 3, 32, 32), [_sample(0, torch.zeros(32, 32, dtype=torch.long))])

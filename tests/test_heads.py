"""SceneHead (train/heads.py): the training-only indoor/outdoor head on the backbone's global context."""
import pytest
import torch
from mmseg.structures import SegDataSample

from skyseg.train.runner import DEFAULT_CONFIG, load_config

SCENE_CONFIG = DEFAULT_CONFIG.parent / "experiments" / "bisenetv2_fcn_1xb4-distil-hardnegpos-clean-scene_sky-384x512-cpu.py"


def _head(**kwargs):
    load_config(SCENE_CONFIG)  # imports the config's custom modules, as training does
    from mmseg.registry import MODELS

    return MODELS.build(dict(type="SceneHead", in_channels=8, in_index=1, dropout_ratio=0.0, **kwargs))


def _samples(*labels):
    samples = []
    for label in labels:
        sample = SegDataSample()
        if label is not None:
            sample.set_metainfo(dict(indoor=label))
        samples.append(sample)
    return samples


def _features(n, seed=0):
    """(unused stage, the pooled stage): the head reads ``in_index`` 1 only."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, 4, 8, 8, generator=g), torch.randn(n, 8, 6, 6, generator=g, requires_grad=True))


def test_the_head_starts_at_zero_so_the_backbone_gets_no_kick():
    head = _head()
    head.init_weights()  # what MMEngine calls before load_from: must keep the zero start
    features = _features(4)
    losses = head.loss(features, _samples(1, 0, 1, 0))
    assert losses["loss_scene"].item() == pytest.approx(0.4 * torch.log(torch.tensor(2.0)).item())
    losses["loss_scene"].backward()
    assert features[1].grad.abs().max().item() == 0.0
    assert head.classifier.weight.grad.abs().max().item() > 0  # the head itself learns at once


def test_samples_without_a_scene_label_are_left_out_of_the_loss():
    head = _head(loss_weight=1.0)
    torch.nn.init.normal_(head.classifier.weight)
    features = _features(3)
    mixed = head.loss(features, _samples(1, -1, None))
    alone = head.loss(tuple(f[:1] for f in features), _samples(1))
    assert mixed["loss_scene"].item() == pytest.approx(alone["loss_scene"].item())
    none = head.loss(features, _samples(-1, None, -1))
    assert none["loss_scene"].item() == 0.0
    none["loss_scene"].backward()  # still in the graph: a batch without labels must not break the step


def test_the_head_learns_to_tell_rooms_from_outdoors_through_the_pooled_features():
    """Indoor samples differ from outdoor ones only in the mean of one channel; a few SGD steps on
    head and features together separate them."""
    torch.manual_seed(0)
    head = _head(loss_weight=1.0)
    labels = [1, 0] * 8
    stage = torch.randn(16, 8, 6, 6)
    stage[::2, 3] += 1.0
    stage.requires_grad_(True)
    optimizer = torch.optim.SGD([*head.parameters(), stage], lr=0.5)
    for _ in range(200):
        optimizer.zero_grad()
        losses = head.loss((None, stage), _samples(*labels))
        losses["loss_scene"].backward()
        optimizer.step()
    assert losses["acc_scene"].item() == 100.0 and losses["loss_scene"].item() < 0.1


SOFT_CONFIG = DEFAULT_CONFIG.parent / "experiments" / "bisenetv2_fcn_1xb4-distil-soft_sky-384x512-cpu.py"


def _decode_heads():
    """The E46 recipe's decode head and the plain FCNHead of the same config, same weights."""
    cfg = load_config(SOFT_CONFIG)
    from mmseg.registry import MODELS

    torch.manual_seed(0)
    soft = MODELS.build(cfg.model.decode_head)
    plain = MODELS.build({**cfg.model.decode_head, "type": "FCNHead"})
    plain.load_state_dict(soft.state_dict())  # strict: the served head, nothing added
    return soft, plain


def _labelled(masks, soft_flags):
    from mmengine.structures import PixelData

    samples = []
    for mask, soft in zip(masks, soft_flags):
        sample = SegDataSample(gt_sem_seg=PixelData(data=torch.as_tensor(mask)[None].long()))
        if soft is not None:
            sample.set_metainfo(dict(soft_label=soft))
        samples.append(sample)
    return samples


def test_without_soft_samples_the_head_loses_exactly_what_fcnhead_does():
    soft, plain = _decode_heads()
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 2, 6, 8, generator=g)
    masks = [torch.randint(0, 2, (12, 16), generator=g) for _ in range(2)]
    masks[0][:3] = 255
    ours, theirs = soft.loss_by_feat(logits, _labelled(masks, [0, None])), plain.loss_by_feat(logits, _labelled(masks, [0, None]))
    assert ours["loss_soft"].item() == 0.0
    for key, value in theirs.items():
        assert torch.allclose(ours[key], value), key


def test_a_soft_sample_learns_the_teachers_probability_not_a_class():
    """A soft sample's mask is p(sky) * 254: its hard losses ignore it, and its soft cross-entropy
    is -(q log p + (1 - q) log(1 - p)) over its labelled pixels, divided by the batch's pixels."""
    from skyseg.labels import SOFT_SCALE

    soft, _ = _decode_heads()
    logits = torch.zeros(1, 2, 4, 4)  # p(sky) 0.5 everywhere
    mask = torch.full((4, 4), 127)     # q = 0.5
    mask[0] = 255                      # ignored row
    losses = soft.loss_by_feat(logits, _labelled([mask], [1]))
    assert losses["loss_soft"].item() == pytest.approx(12 / 16 * torch.log(torch.tensor(2.0)).item(), rel=1e-3)
    assert all(losses[k].item() == 0.0 for k in losses if k not in ("loss_soft", "acc_seg"))

    logits = torch.zeros(1, 2, 4, 4, requires_grad=True)
    target = torch.full((4, 4), round(0.8 * SOFT_SCALE))
    optimizer = torch.optim.SGD([logits], lr=20.0)
    for _ in range(300):
        optimizer.zero_grad()
        soft.loss_by_feat(logits, _labelled([target], [1]))["loss_soft"].backward()
        optimizer.step()
    p_sky = logits.softmax(1)[0, 1]
    assert torch.allclose(p_sky, torch.full_like(p_sky, 0.8), atol=0.01)  # calibrated to q, not pushed to 1

"""Real MMSeg training for a few iterations on generated data, resume, and export parity."""

import cv2
import numpy as np
import pytest
import torch

from skyseg import samples
from skyseg.train import convert_data
from skyseg.train.runner import DEFAULT_CONFIG, load_config, load_contract, train

TINY_CONFIG = """
_base_ = [{base!r}]
crop_size = (64, 64)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='SkyDataset', data_root={root!r},
                 data_prefix=dict(img_path='tiny/images', seg_map_path='tiny/masks'),
                 pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                           dict(type='RandomResize', scale=(128, 96), ratio_range=(0.8, 1.2), keep_ratio=True),
                           dict(type='RandomCrop', crop_size=crop_size), dict(type='RandomFlip', prob=0.5),
                           dict(type='PackSegInputs')]))
default_hooks = dict(logger=dict(interval=1), visualization=dict(type='SegVisualizationHook'))
"""


def _logs(work_dir):
    return "".join(p.read_text() for p in work_dir.glob("*/*.log"))


def _logged_losses(work_dir) -> list[float]:
    """Every ``loss:`` value MMEngine's logger wrote for the run in ``work_dir``."""
    return [float(line.split("loss: ")[1].split()[0]) for line in _logs(work_dir).splitlines() if " loss: " in line]


def tiny_dataset(tmp, images: int = 6):
    """Generated scenes -> binary-mask converter -> ``tmp/data/tiny``; returns TINY_CONFIG's file."""
    (tmp / "src/images").mkdir(parents=True)
    (tmp / "src/masks").mkdir()
    for i in range(images):
        image, sky = samples.render_labeled_scene(128, 96, seed=i)
        cv2.imwrite(str(tmp / "src/images" / f"{i}.jpg"), image)
        cv2.imwrite(str(tmp / "src/masks" / f"{i}.png"), sky.astype(np.uint8) * 255)
    convert_data.convert_binary_folder(tmp / "src/images", tmp / "src/masks", tmp / "data", "tiny")
    config = tmp / "tiny_config.py"
    config.write_text(TINY_CONFIG.format(base=str(DEFAULT_CONFIG), root=str(tmp / "data")))
    return config


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Generated scenes -> binary-mask converter -> 4 training iterations (resumed after 2)."""
    tmp = tmp_path_factory.mktemp("tiny")
    config = tiny_dataset(tmp)
    work_dir = tmp / "work"
    train(config, work_dir, max_iters=2)
    train(config, work_dir, max_iters=4)  # resumes from iter_2
    return config, work_dir


def test_training_writes_checkpoints_and_resumes(tiny_run):
    _, work_dir = tiny_run
    assert (work_dir / "iter_4.pth").exists()
    logs = _logs(work_dir)
    assert "resumed epoch: 0, iter: 2" in logs
    assert "Iter(train) [4/4]" in logs
    losses = _logged_losses(work_dir)
    assert losses and all(np.isfinite(losses))


def test_export_matches_pytorch_and_drops_auxiliary_heads(tiny_run, tmp_path):
    from skyseg.convert.cli import parity_images
    from skyseg.convert.export import export_onnx
    from skyseg.convert.repository import output_shape
    from skyseg.convert.network import build_network, load_state_dict, save_inference_checkpoint
    from skyseg.convert.parity import check_parity

    config, work_dir = tiny_run
    contract = load_contract(config)
    net = build_network(config, work_dir / "iter_4.pth")
    onnx_path = export_onnx(net, contract, tmp_path / "tiny.onnx")
    assert output_shape(onnx_path) == (2, -1, -1)  # height and width follow each image's canvas
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    for h, w in ((288, 512), (384, 288), contract.input_hw):
        assert session.run(None, {"input": np.zeros((2, 3, h, w), np.float32)})[0].shape == (2, 2, h // 8, w // 8)
    report = check_parity(net, onnx_path, contract, parity_images(str(tmp_path / "none*.jpg"), count=3))
    assert report.max_abs_logit_diff < 1e-3 and report.mask_agreement > 0.9999
    slim = save_inference_checkpoint(work_dir / "iter_4.pth", tmp_path / "slim.pth", meta={"note": "test"})
    state = torch.load(slim, weights_only=True)["state_dict"]  # plain tensors: loads without allow-lists
    assert not any(k.startswith("auxiliary_head") for k in state)
    assert state.keys() == load_state_dict(work_dir / "iter_4.pth").keys()


def test_parity_check_fails_loudly_on_a_different_model(tiny_run, tmp_path):
    from skyseg.convert.cli import parity_images
    from skyseg.convert.export import export_onnx
    from skyseg.convert.network import build_network
    from skyseg.convert.parity import ParityError, check_parity

    config, work_dir = tiny_run
    contract = load_contract(config)
    trained = build_network(config, work_dir / "iter_4.pth")
    onnx_path = export_onnx(trained, contract, tmp_path / "trained.onnx")
    torch.manual_seed(123)
    other = build_network(config)  # fresh random weights: must not pass as the exported model
    with pytest.raises(ParityError, match="does not match PyTorch"):
        check_parity(other, onnx_path, contract, parity_images(str(tmp_path / "none*.jpg"), count=2))


def test_int8_quantization_of_the_trained_model(tiny_run, tmp_path):
    from skyseg.convert.export import export_onnx
    from skyseg.convert.network import build_network
    from skyseg.convert.parity import ort_session
    from skyseg.convert.quantize import depthwise_convs, quantize_int8

    config, work_dir = tiny_run
    contract = load_contract(config)
    fp32 = export_onnx(build_network(config, work_dir / "iter_4.pth"), contract, tmp_path / "fp32.onnx")
    calibration = []
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"cal{i}.jpg"), samples.render_scene(200, 150, seed=40 + i))
        calibration.append(tmp_path / f"cal{i}.jpg")
    int8 = quantize_int8(fp32, tmp_path / "int8.onnx", calibration, contract)
    import onnx

    ops = {n.op_type for n in onnx.load(str(int8)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # QDQ format
    assert depthwise_convs(fp32), "BiSeNetV2 has depthwise convolutions"
    x = np.zeros((2, 3, *contract.input_hw), np.float32)
    assert ort_session(int8).run(None, {"input": x})[0].shape == ort_session(fp32).run(None, {"input": x})[0].shape


def test_amp_on_cpu_trains_in_bfloat16_with_float32_weights(tiny_run, tmp_path):
    """``skyseg train --amp`` without CUDA: the runner's optimizer wrapper runs the forward under
    bfloat16 autocast, and the checkpoint it writes still holds float32 weights."""
    if torch.cuda.is_available():
        pytest.skip("with CUDA, --amp is float16 AmpOptimWrapper (always on)")
    config, _ = tiny_run
    dtypes = []

    def record(module, inputs, output):
        dtypes.append(output.dtype)

    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module(force=True)
    class _RecordConvDtype(Hook):  # the first conv of the running model, seen from inside the runner
        def before_train(self, runner):
            first_conv = next(m for m in runner.model.modules() if isinstance(m, torch.nn.Conv2d))
            first_conv.register_forward_hook(record)

    work_dir = train(config, tmp_path / "amp", max_iters=2, amp=True,
                     options={"custom_hooks": [dict(type="SkySegProgressBarHook"), dict(type="_RecordConvDtype")]})
    assert dtypes and set(dtypes) == {torch.bfloat16}
    dumped = next(work_dir.glob("*.py")).read_text()
    assert "CPUBF16OptimWrapper" in dumped
    from skyseg.convert.network import load_state_dict

    state = load_state_dict(work_dir / "iter_2.pth")
    assert {v.dtype for k, v in state.items() if k.endswith(".weight")} == {torch.float32}
    losses = _logged_losses(work_dir)
    assert losses and all(np.isfinite(losses))


@pytest.mark.parametrize("config", sorted(DEFAULT_CONFIG.parent.rglob("*.py")), ids=lambda p: p.name)
def test_every_recipe_config_builds_its_model(config):
    """Each stage's config (stage 2 and 3 inherit and override) must still parse and build."""
    from mmseg.registry import MODELS

    from skyseg.train.runner import load_config

    cfg = load_config(config)
    model = MODELS.build(cfg.model)
    assert cfg.train_cfg.max_iters > 0 and model.decode_head.num_classes == 2


def test_time_limit_stops_with_a_checkpoint_that_resumes(tiny_run, tmp_path):
    """``skyseg train --time-limit``: out of time after the first iteration, the run saves
    iter_1.pth, points last_checkpoint at it and stops; the next call resumes there."""
    config, _ = tiny_run
    work_dir = tmp_path / "budget"
    train(config, work_dir, max_iters=4, time_limit=1e-6)
    assert (work_dir / "iter_1.pth").exists() and not (work_dir / "iter_4.pth").exists()
    assert (work_dir / "last_checkpoint").read_text().endswith("iter_1.pth")
    assert "time budget of 0 s spent: stopped at iteration 1 of 4" in _logs(work_dir)
    train(config, work_dir, max_iters=4)
    assert "resumed epoch: 0, iter: 1" in _logs(work_dir)
    assert (work_dir / "iter_4.pth").exists()


def test_a_fine_tune_stopped_on_time_resumes_its_own_checkpoint(tiny_run, tmp_path):
    """A config with ``load_from`` (every distilled recipe starts from the shipped weights): MMEngine
    resumes *from load_from* when one is set, so the second call must drop it and continue from
    the work_dir's checkpoint, not restart from (or fail on) the starting weights."""
    config, start_dir = tiny_run
    work_dir = tmp_path / "fine_tune"
    options = {"load_from": str(start_dir / "iter_4.pth")}
    train(config, work_dir, max_iters=3, time_limit=1e-6, options=options)
    assert (work_dir / "last_checkpoint").read_text().endswith("iter_1.pth")
    train(config, work_dir, max_iters=3, options=options)
    assert "resumed epoch: 0, iter: 1" in _logs(work_dir)
    assert (work_dir / "iter_3.pth").exists()


def test_timed_poly_schedule_completes_on_time_and_ends_at_the_floor(tiny_run, tmp_path, monkeypatch, capsys):
    """TimedPolyLR: a schedule over wall time ends the run itself (max_iters is far away), with a
    checkpoint, the rate falling after its warm-up to near eta_min, and the progress bar counts its
    seconds, not the unreachable max_iters. The hook's clock is replaced by one that advances 0.1 s
    per reading, so the test does not depend on this machine's speed."""
    from skyseg.train import hooks

    clock = iter(range(10**6))
    monkeypatch.setattr(hooks, "_clock", lambda: next(clock) * 0.1)
    config, _ = tiny_run
    work_dir = tmp_path / "timed"
    train(config, work_dir, options={
        "param_scheduler": None, "train_cfg.max_iters": 100000, "optim_wrapper.optimizer.lr": 0.05,
        "custom_hooks": [dict(type="SkySegProgressBarHook"), dict(type="TimedPolyLR", seconds=4.0, eta_min=1e-5)],
        "default_hooks.checkpoint.interval": 100000})
    bar = capsys.readouterr().err
    assert "4/4 s" in bar and "it=" in bar and "100000" not in bar, bar[-500:]
    checkpoint = (work_dir / "last_checkpoint").read_text().strip()
    assert "timed schedule of 4 s complete at iteration" in _logs(work_dir)
    rates = [float(line.split(" lr: ")[1].split()[0]) for line in _logs(work_dir).splitlines() if " lr: " in line]
    after_warmup = rates[1 + int(np.argmax(rates[1:])):]  # the first line logs the configured rate
    assert len(after_warmup) >= 5 and after_warmup[-1] < 0.01 < after_warmup[0] <= 0.05, rates
    assert all(b <= a for a, b in zip(after_warmup, after_warmup[1:])), rates
    iters = int(checkpoint.rsplit("iter_", 1)[1].split(".")[0])
    assert 5 < iters < 100000


def test_interpolated_weights_lie_between_the_start_and_the_fine_tuned_network(tiny_run, tmp_path):
    """``skyseg interpolate`` (WiSE-FT): alpha 0 is the start, 1 the fine-tuned, 0.5 their mean;
    a checkpoint of another network is refused by name."""
    from skyseg.convert.network import interpolate_weights, load_state_dict

    _, work_dir = tiny_run
    start, tuned = load_state_dict(work_dir / "iter_2.pth"), load_state_dict(work_dir / "iter_4.pth")
    for alpha in (0.0, 0.5, 1.0):
        out = load_state_dict(interpolate_weights(work_dir / "iter_2.pth", work_dir / "iter_4.pth", alpha,
                                                  tmp_path / f"{alpha}.pth"))
        for key, value in out.items():
            if value.is_floating_point():
                assert torch.allclose(value, alpha * tuned[key] + (1 - alpha) * start[key], atol=1e-6), key
    moved = [k for k in start if start[k].is_floating_point() and not torch.equal(start[k], tuned[k])]
    assert moved  # the two checkpoints differ, so the check above could fail
    other = tmp_path / "other.pth"
    torch.save({"state_dict": {k: v for k, v in tuned.items() if k != moved[0]}}, other)
    with pytest.raises(ValueError, match="not the same network"):
        interpolate_weights(work_dir / "iter_2.pth", other, 0.5, tmp_path / "x.pth")


def test_a_soup_is_the_mean_of_its_runs_and_refuses_another_network(tiny_run, tmp_path, capsys):
    """``skyseg soup`` (E45's anchor): every float tensor the mean of the checkpoints' tensors; one
    checkpoint, or one of another network, is refused."""
    from skyseg.convert.network import average_weights, load_state_dict
    from skyseg_client.cli import main

    _, work_dir = tiny_run
    paths = [work_dir / "iter_2.pth", work_dir / "iter_4.pth", work_dir / "iter_4.pth"]
    runs = [load_state_dict(p) for p in paths]
    assert main(["soup", *map(str, paths), "--out", str(tmp_path / "soup.pth")]) == 0
    soup = load_state_dict(tmp_path / "soup.pth")
    for key, value in soup.items():
        if value.is_floating_point():
            assert torch.allclose(value, (runs[0][key] + 2 * runs[1][key]) / 3, atol=1e-6), key
    assert any(not torch.equal(soup[k], runs[1][k]) for k in soup if soup[k].is_floating_point())
    with pytest.raises(ValueError, match="two checkpoints or more"):
        average_weights(paths[:1], tmp_path / "x.pth")
    other = tmp_path / "other.pth"
    torch.save({"state_dict": {k: v for k, v in runs[1].items() if k != next(iter(runs[1]))}}, other)
    with pytest.raises(ValueError, match="not the same network"):
        average_weights([paths[0], other], tmp_path / "x.pth")


def test_timed_poly_schedule_keeps_its_spent_time_in_the_checkpoint(tiny_run, tmp_path):
    """A run cut short (here by --time-limit) saves the schedule's spent seconds with the message
    hub, which MMEngine restores on resume: the schedule goes on where it was, not from the top."""
    from skyseg.train import mmcompat

    config, _ = tiny_run
    work_dir = tmp_path / "timed_resume"
    train(config, work_dir, time_limit=1e-6, options={
        "param_scheduler": None, "train_cfg.max_iters": 100000,
        "custom_hooks": [dict(type="TimedPolyLR", seconds=1000.0)], "default_hooks.checkpoint.interval": 100000})
    with mmcompat.training_checkpoints():
        saved = torch.load(work_dir / "iter_1.pth", map_location="cpu", weights_only=True)
    assert saved["message_hub"]["runtime_info"]["timed_poly_spent"] > 0


def test_a_scene_head_trains_beside_the_sky_and_leaves_the_exported_network_alone(tmp_path, write_pair):
    """SceneHead (E44) in a real run: its loss is logged and learnt from the splits' scene labels,
    with ``--max-iters`` shortening a wall-time (TimedPolyLR, no param_scheduler) recipe; the
    checkpoint builds the served network strictly, without the head."""
    from skyseg.convert.network import build_network, load_state_dict
    config = tiny_dataset(tmp_path)
    load_config(config)  # the stack's import fixes (mmcompat), then:
    from skyseg.train import heads  # noqa: F401  (registers SceneHead, as the E44 config's custom_imports do)

    for i in range(4):  # a second, "indoor" split: the generated scenes, darkened, without sky
        image, sky = samples.render_labeled_scene(128, 96, seed=100 + i)
        write_pair(tmp_path / "data", "rooms", f"r{i}", image // 3, np.zeros(sky.shape, np.uint8))
    pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations"),
                dict(type="RandomCrop", crop_size=(64, 64)), dict(type="PackSegInputs")]
    options = {
        "model.auxiliary_head": dict(_delete_=True, type="SceneHead", in_channels=128, in_index=4),
        "train_dataloader.dataset": dict(
            _delete_=True, type="WeightedSkySplits", data_root=str(tmp_path / "data"), pipeline=pipeline,
            split_weights=dict(tiny=1, rooms=1), scenes=dict(outdoor=("tiny",), indoor=("rooms",))),
        "param_scheduler": None, "train_cfg.max_iters": 100000,
        "custom_hooks": [dict(type="TimedPolyLR", seconds=1e6)],
    }
    work_dir = train(config, tmp_path / "scene", max_iters=3, options=options)
    assert (work_dir / "iter_3.pth").exists()
    logged = [line for line in _logs(work_dir).splitlines() if "aux.loss_scene" in line]
    assert len(logged) == 3 and "aux.acc_scene" in logged[-1]
    state = torch.load(work_dir / "iter_3.pth", map_location="cpu", weights_only=False)["state_dict"]
    assert state["auxiliary_head.classifier.weight"].abs().sum() > 0  # learnt from its zero start
    assert not any(k.startswith("auxiliary_head") for k in load_state_dict(work_dir / "iter_3.pth"))
    build_network(config, work_dir / "iter_3.pth")  # strict: the served network, nothing missing or extra


def test_a_soft_split_trains_through_its_own_loss_and_exports_the_plain_network(tmp_path, write_pair):
    """E46's loss in a real run: a split of probability masks (p(sky) * 254) beside a hard one;
    ``loss_soft`` is logged and finite, and the checkpoint builds the served network strictly. A
    model whose auxiliary FCN heads would read those masks as classes is refused by name first."""
    from skyseg.convert.network import build_network
    from skyseg.labels import SOFT_SCALE
    config = tiny_dataset(tmp_path)
    load_config(config)
    from skyseg.train import heads  # noqa: F401  (registers SoftTargetFCNHead, as E46's custom_imports do)

    for i in range(4):  # the generated scenes with a teacher-like probability: 0.9 on sky, 0.1 elsewhere
        image, sky = samples.render_labeled_scene(128, 96, seed=200 + i)
        write_pair(tmp_path / "data", "soft", f"s{i}", image,
                   np.where(sky > 0, round(0.9 * SOFT_SCALE), round(0.1 * SOFT_SCALE)).astype(np.uint8))
    pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations"),
                dict(type="RandomCrop", crop_size=(64, 64)), dict(type="PackSegInputs")]
    options = {
        "model.decode_head.type": "SoftTargetFCNHead",
        "train_dataloader.dataset": dict(
            _delete_=True, type="WeightedSkySplits", data_root=str(tmp_path / "data"), pipeline=pipeline,
            split_weights=dict(tiny=1, soft=1), soft_splits=("soft",)),
    }
    with pytest.raises(ValueError, match="no auxiliary segmentation heads"):
        train(config, tmp_path / "refused", max_iters=3, options=options)
    work_dir = train(config, tmp_path / "soft_run", max_iters=3, options={**options, "model.auxiliary_head": None})
    logged = [line for line in _logs(work_dir).splitlines() if "decode.loss_soft" in line]
    assert len(logged) == 3 and "nan" not in " ".join(logged)
    assert any(float(line.split("decode.loss_soft: ")[1].split()[0]) > 0 for line in logged)
    build_network(config, work_dir / "iter_3.pth")  # strict: the served network, nothing missing or extra

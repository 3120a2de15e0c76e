"""Carry the GPU recipe to a leased GPU machine, and run it there.

Such a machine has PyTorch, NumPy and OpenCV but no OpenMMLab stack, reaches no package registry,
and takes at most 64 MiB of carried files next to the working tree, 10 minutes a command. So:

* here, ``skyseg device-bundle`` writes ``.device/``: the OpenMMLab wheels (and their pure-Python
  dependencies) at the versions this environment was tested with, and the config's training
  splits re-encoded as JPEG quality 85 (49 -> 33 MB) with their label PNGs untouched;
* there, ``bash train/device_train.sh`` installs the wheels and this project offline and calls
  :func:`run`: train under a time budget (resumable), then write the inference checkpoint,
  MMEngine's log and a status line to ``$OUT``, the only folder that comes back.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Iterable

import cv2
from tqdm import tqdm

#: What the device lacks, as distributions of this environment (their versions are the pins).
WHEELS = ("mmsegmentation", "mmengine", "mmcv-lite", "ftfy", "wcwidth", "addict", "yapf", "platformdirs",
          "termcolor", "prettytable")
#: The device's Python (train/EXPERIMENTS.md, "GPU recipe").
DEVICE_PYTHON = "3.12"
CARRY_LIMIT = 64 << 20  #: working tree + carried files, per device call
JPEG_QUALITY = 85
#: The shipped GPU recipe (stage 5): the distillation mix, continued from the shipped weights.
GPU_CONFIG = Path(__file__).parent / "configs" / "bisenetv2_fcn_1xb16-distil_sky-384x512-gpu.py"
CHECKPOINT_NAME = "bisenetv2_sky_gpu.pth"


def pinned_requirements(names: Iterable[str] = WHEELS) -> list[str]:
    """``name==version`` for each distribution as installed here: what the test suite ran with."""
    return [f"{name}=={metadata.version(name)}" for name in names]


def download_wheels(out: Path, requirements: Iterable[str], python: str = DEVICE_PYTHON) -> list[Path]:
    """Pure-Python wheels only (``any`` platform), so they install on the device whatever its CPU."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                    "--only-binary=:all:", "--platform", "any", "--implementation", "py", "--abi", "none",
                    "--python-version", python, "-d", str(out), *requirements], check=True)
    return sorted(out.glob("*.whl"))


def training_splits(cfg) -> list[str]:
    """The split folders a config trains on: every ``data_prefix.img_path`` and every
    ``WeightedSkySplits.split_weights`` name under its train_dataloader."""
    from .runner import config_dicts

    splits = []
    for d in config_dicts(cfg.train_dataloader):
        if isinstance(d.get("data_prefix"), dict) and "img_path" in d["data_prefix"]:
            splits.append(str(Path(d["data_prefix"]["img_path"]).parent))
        if isinstance(d.get("split_weights"), dict):
            splits.extend(d["split_weights"])
    return list(dict.fromkeys(splits))


def copy_splits(data_root: Path, splits: Iterable[str], out: Path, quality: int = JPEG_QUALITY,
                max_images: int | None = None, max_side: int | None = None,
                max_images_of: dict[str, int] | None = None) -> int:
    """Images re-encoded at ``quality`` (the training resizes them anyway), masks copied byte for
    byte; with ``max_side``, larger pairs are first shrunk to it (area for the image, nearest for
    the labels), which the training's RandomResize undoes at no cost to what it samples."""
    pairs = []
    for split in splits:
        images = sorted((data_root / split / "images").glob("*.jpg"))
        cap = (max_images_of or {}).get(split, max_images)
        if cap is not None and cap < len(images):  # an even spread over the split, not its first files
            images = [images[round(i * len(images) / cap)] for i in range(cap)]
        if not images:
            raise FileNotFoundError(f"no images in {data_root / split / 'images'}; run `skyseg prepare-data`")
        pairs += [(split, image) for image in images]
    for split, image in tqdm(pairs, desc="re-encode", unit="img"):
        (out / split / "images").mkdir(parents=True, exist_ok=True)
        (out / split / "masks").mkdir(parents=True, exist_ok=True)
        rgb = cv2.imread(str(image), cv2.IMREAD_COLOR)
        mask = data_root / split / "masks" / f"{image.stem}.png"
        scale = max_side / max(rgb.shape[:2]) if max_side else 1.0
        if scale < 1:
            size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            labels = cv2.resize(cv2.imread(str(mask), cv2.IMREAD_UNCHANGED), size, interpolation=cv2.INTER_NEAREST)
            cv2.imwrite(str(out / split / "masks" / mask.name), labels)
        else:
            shutil.copyfile(mask, out / split / "masks" / mask.name)
        cv2.imwrite(str(out / split / "images" / image.name), rgb, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return len(pairs)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def tracked_bytes(repo: Path) -> int:
    """The working tree that travels with every device call (git's tracked files; 0 outside a checkout)."""
    try:
        names = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        print(f"{repo} is not a git checkout: the size check counts the bundle alone")
        return 0
    return sum((repo / n).stat().st_size for n in names.decode().split("\0") if n and (repo / n).is_file())


def bundle(out: Path, config: Path = GPU_CONFIG, data_root: Path = Path("data/sky"),
           max_images: int | None = None, repo: Path = Path("."), quality: int = JPEG_QUALITY,
           max_side: int | None = None, max_images_of: dict[str, int] | None = None) -> dict:
    """Write ``out`` (wheels/, data/sky/, manifest.json); fail if it and the tree exceed the carry limit."""
    from .runner import load_config

    if out.exists():
        shutil.rmtree(out)
    requirements = pinned_requirements()
    wheels = download_wheels(out / "wheels", requirements)
    splits = training_splits(load_config(config))
    images = copy_splits(data_root, splits, out / "data" / "sky", quality, max_images, max_side, max_images_of)
    manifest = {"config": str(config), "requirements": requirements, "splits": splits, "images": images,
                "jpeg_quality": quality, "max_side": max_side, "max_images_of": max_images_of,
                "bundle_bytes": folder_bytes(out), "tree_bytes": tracked_bytes(repo)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    carried = manifest["bundle_bytes"] + manifest["tree_bytes"]
    print(f"{out}: {len(wheels)} wheels, {images} images of {', '.join(splits)}; "
          f"{manifest['bundle_bytes'] / 2**20:.1f} MiB + tree {manifest['tree_bytes'] / 2**20:.1f} MiB "
          f"of the {CARRY_LIMIT >> 20} MiB a device call carries")
    if carried > CARRY_LIMIT:
        raise RuntimeError(f"{out} and the working tree are {carried / 2**20:.1f} MiB, over the "
                           f"{CARRY_LIMIT >> 20} MiB a device call carries; pass --max-images")
    return manifest


def run(config: Path, data_root: Path, work_dir: Path, out: Path, time_limit: float,
        max_iters: int | None = None, options: dict | None = None) -> dict:
    """On the device: train (resuming from ``work_dir``) for at most ``time_limit`` seconds, then
    write what comes back: the inference checkpoint, MMEngine's log and ``status.json``."""
    import torch

    from skyseg.train import mmcompat
    from skyseg.convert.network import save_inference_checkpoint

    from .runner import load_config, train

    start = time.monotonic()
    train(config, work_dir, data_root=str(data_root), max_iters=max_iters, options=options, time_limit=time_limit)
    checkpoint = Path((work_dir / "last_checkpoint").read_text().strip())
    with mmcompat.training_checkpoints():
        meta = torch.load(checkpoint, map_location="cpu", weights_only=True)["meta"]
    out.mkdir(parents=True, exist_ok=True)
    status = {"config": str(config), "checkpoint": checkpoint.name, "iter": int(meta["iter"]),
              "max_iters": int(max_iters or load_config(config).train_cfg.max_iters),
              "seconds": round(time.monotonic() - start, 1),
              "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
              "torch": str(torch.__version__)}  # TorchVersion would not load under weights_only
    save_inference_checkpoint(checkpoint, out / CHECKPOINT_NAME, meta={"trained": status})
    (out / "train.log").write_text("".join(p.read_text() for p in sorted(work_dir.glob("*/*.log"))))
    (out / "status.json").write_text(json.dumps(status, indent=2))
    print(json.dumps(status))
    return status


def main(argv: list[str] | None = None) -> int:
    """``python -m skyseg.train.device_bundle run ...``: the device side, without the ``skyseg`` CLI
    (whose client half needs tritonclient, which the device lacks)."""
    parser = argparse.ArgumentParser(prog="python -m skyseg.train.device_bundle")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="train under a time budget and write the results to --out")
    p.add_argument("--config", type=Path, default=GPU_CONFIG)
    p.add_argument("--data-root", type=Path, default=Path(".device/data/sky"))
    p.add_argument("--work-dir", type=Path, default=Path("work_dirs/gpu"))
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--time-limit", type=float, default=480.0, metavar="SECONDS")
    p.add_argument("--max-iters", type=int)
    p.add_argument("--cfg-options", type=json.loads)
    args = parser.parse_args(argv)
    run(args.config, args.data_root, args.work_dir, args.out, args.time_limit, args.max_iters, args.cfg_options)
    return 0


if __name__ == "__main__":
    sys.exit(main())

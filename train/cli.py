"""``skyseg prepare-data`` and ``skyseg train``."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

DEFAULT_SHARED = Path("../shared/data")
DEFAULT_TEACHER = Path("../shared/teachers/sky_u2netp/sky_u2netp.onnx")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("prepare-data", help="convert datasets into the common sky format")
    p.add_argument("--out", type=Path, default=Path("data/sky"), help="output root (default data/sky)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                       help="the project's shared data folder (CamVid, cityscapes_sky, ade20k_sky)")
    group.add_argument("--cityscapes", type=Path, help="a raw Cityscapes root (leftImg8bit/, gtFine/)")
    group.add_argument("--camvid", type=Path, help="a CamVid root in SegNet layout")
    group.add_argument("--ade20k", type=Path,
                       help="an ADE20K SceneParsing root (ADEChallengeData2016: images/, annotations/; sky = 3)")
    group.add_argument("--masks", nargs=3, metavar=("IMAGES", "MASKS", "NAME"),
                       help="a folder of images and same-stem binary masks, written as NAME")
    p.set_defaults(func=_prepare)

    p = subparsers.add_parser("pseudo-label", help="soft sky labels from a teacher ONNX model (cached, resumable)")
    p.add_argument("folders", nargs="+", type=Path, help="image folders, searched recursively")
    p.add_argument("--teacher", type=Path, default=DEFAULT_TEACHER, help=f"teacher ONNX model (default {DEFAULT_TEACHER})")
    p.add_argument("--out", type=Path, default=Path("data/pseudo"),
                   help="output root: prob/ and confidence/ PNGs mirroring each folder (default data/pseudo)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: all cores)")
    p.add_argument("--score", type=Path, metavar="MASKS",
                   help="instead of labelling: score the labels under --out against human labels "
                        "(a converted split's masks/ folder) and print the teacher's IoU")
    p.set_defaults(func=_pseudo_label)

    p = subparsers.add_parser("mine-negatives",
                              help="write the sky-free training images a model most takes for sky as a split")
    p.add_argument("--onnx", type=Path, default=Path("skyseg/models/bisenetv2_sky.onnx"),
                   help="the model whose mistakes are mined (default: the embedded FP32 model)")
    p.add_argument("--splits", nargs="+", default=["sun_indoor", "sun_mixed_skyfree", "ade20k_sky"],
                   help="splits whose sky-free images are candidates (default: %(default)s)")
    p.add_argument("--out", default="hard_negatives", help="name of the split written (default %(default)s)")
    p.add_argument("--top", type=int, default=64, help="how many images it keeps (default %(default)s)")
    p.add_argument("--data-root", type=Path, default=Path("data/sky"))
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: all cores)")
    p.add_argument("--replay", type=Path, metavar="RECORD",
                   help="write the split from a kept record's chosen images instead of mining (train/mined/)")
    p.set_defaults(func=_mine_negatives)

    p = subparsers.add_parser("mine-positives",
                              help="write the training images whose sky a model most misses as a split")
    p.add_argument("--onnx", type=Path, default=Path("skyseg/models/bisenetv2_sky.onnx"),
                   help="the model whose misses are mined (default: the embedded FP32 model)")
    p.add_argument("--splits", nargs="+", default=["sun_outdoor", "ade20k_sky"],
                   help="splits whose images with sky are candidates (default: %(default)s)")
    p.add_argument("--out", default="hard_positives", help="name of the split written (default %(default)s)")
    p.add_argument("--top", type=int, default=64, help="how many images it keeps (default %(default)s)")
    p.add_argument("--min-sky", type=float, default=0.05,
                   help="least share of an image's labelled pixels that is sky (default %(default)s)")
    p.add_argument("--exclude", type=Path, metavar="FILE",
                   help="stems never mined, one per line, '#' comments (e.g. train/teacher_label_errors.txt)")
    p.add_argument("--data-root", type=Path, default=Path("data/sky"))
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: all cores)")
    p.add_argument("--replay", type=Path, metavar="RECORD",
                   help="write the split from a kept record's chosen images instead of mining (train/mined/)")
    p.set_defaults(func=_mine_positives)

    p = subparsers.add_parser("train", help="train a model with MMEngine (resumes from WORK_DIR)")
    p.add_argument("config", nargs="?", type=Path, help="MMSeg config (default: the shipped one)")
    p.add_argument("--work-dir", type=Path, default=Path("work_dirs/sky"))
    p.add_argument("--data-root", help="converted data root (default: the config's data_root)")
    p.add_argument("--max-iters", type=int, help="override the schedule length")
    p.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p.add_argument("--amp", action="store_true",
                   help="bfloat16 mixed precision on a CPU without CUDA (~1.9x faster with AMX, ~1.3x with AVX512-BF16); "
                        "always on with CUDA (float16)")
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="stop after this much wall time with a checkpoint; run again to resume")
    p.add_argument("--cfg-options", type=json.loads, default=None,
                   help='JSON dict merged into the config, e.g. \'{"train_dataloader.batch_size": 2}\'')
    p.set_defaults(func=_train)

    p = subparsers.add_parser("device-bundle", help="write .device/ (wheels + training splits) for a leased GPU machine")
    p.add_argument("--out", type=Path, default=Path(".device"))
    p.add_argument("--config", type=Path, help="config whose training splits are carried (default: the shipped stage-5 GPU recipe)")
    p.add_argument("--data-root", type=Path, default=Path("data/sky"))
    p.add_argument("--max-images", type=int, help="at most this many images per split (a smaller bundle)")
    p.add_argument("--max-images-of", nargs="+", default=[], metavar="SPLIT=N",
                   help="at most N images of SPLIT, spread evenly over it (e.g. idd_train=350)")
    p.add_argument("--quality", type=int, default=85, help="JPEG quality of the carried images (default 85)")
    p.add_argument("--max-side", type=int, help="shrink larger images (and their labels) to this many pixels")
    p.set_defaults(func=_device_bundle)


def _prepare(args: argparse.Namespace) -> int:
    from . import convert_data

    if args.cityscapes:
        counts = convert_data.convert_cityscapes(args.cityscapes, args.out)
    elif args.camvid:
        counts = convert_data.convert_camvid(args.camvid, args.out)
    elif args.ade20k:
        counts = convert_data.convert_ade20k(args.ade20k, args.out)
    elif args.masks:
        images, masks, name = args.masks
        counts = convert_data.convert_binary_folder(Path(images), Path(masks), args.out, name)
    else:
        if not args.shared.is_dir():
            raise FileNotFoundError(f"shared data folder {args.shared} not found")
        counts = convert_data.prepare_shared(args.shared, args.out)
    for name, count in counts.items():
        print(f"{name:28s} {count:5d} images -> {args.out / name}")
    return 0


def _pseudo_label(args: argparse.Namespace) -> int:
    from . import pseudo_label

    if args.score:
        counts = pseudo_label.score_against_labels(args.out / "prob", args.score)
        print(json.dumps({k: v for k, v in counts.as_dict().items() if not k.startswith("per_image")}, indent=2))
        return 0
    result = pseudo_label.label_folders(args.teacher, args.folders, args.out, args.batch, args.threads)
    print(", ".join(f"{v} {k}" for k, v in result.items()), f"-> {args.out}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from .mine_negatives import replay

    chosen = replay(args.replay, args.data_root, args.out)
    print(f"{len(chosen)} images of {args.replay} -> {args.data_root / args.out}")
    return 0


def _mine_negatives(args: argparse.Namespace) -> int:
    if args.replay:
        return _replay(args)
    from skyseg.contract import Contract

    from .mine_negatives import mine

    ranked = mine(args.onnx, Contract.from_onnx(args.onnx), args.data_root, args.splits, args.out, args.top,
                  args.threads)
    chosen = ranked[:args.top]
    print(f"{len(ranked)} sky-free images of {', '.join(args.splits)}; the {len(chosen)} with the largest "
          f"false sky -> {args.data_root / args.out}")
    for n in chosen[:10]:
        print(f"  {n.split:20s} {n.stem:40s} mean p(sky) {n.false_sky:.4f}  peak {n.peak:.3f}")
    return 0


def _mine_positives(args: argparse.Namespace) -> int:
    if args.replay:
        return _replay(args)
    from skyseg.contract import Contract

    from .mine_positives import mine
    from .splits import read_stem_list

    exclude = read_stem_list(args.exclude) if args.exclude else frozenset()
    ranked = mine(args.onnx, Contract.from_onnx(args.onnx), args.data_root, args.splits, args.out, args.top,
                  args.min_sky, args.threads, exclude)
    chosen = ranked[:args.top]
    print(f"{len(ranked)} images of {', '.join(args.splits)} with >= {args.min_sky:.0%} sky; the {len(chosen)} "
          f"whose sky the model most misses -> {args.data_root / args.out}")
    for n in chosen[:10]:
        print(f"  {n.split:20s} {n.stem:40s} missed sky {n.missed_sky:.4f}  of sky share {n.sky_share:.3f}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from .runner import DEFAULT_CONFIG, train

    work_dir = train(args.config or DEFAULT_CONFIG, args.work_dir, data_root=args.data_root,
                     max_iters=args.max_iters, resume=not args.no_resume, options=args.cfg_options,
                     amp=args.amp, time_limit=args.time_limit)
    print(f"checkpoints in {work_dir}")
    return 0


def _split_caps(items: list[str]) -> dict[str, int]:
    caps = {}
    for item in items:
        name, sep, count = item.partition("=")
        if not sep or not count.isdigit():
            raise SystemExit(f"--max-images-of takes SPLIT=N, got {item!r}")
        caps[name] = int(count)
    return caps


def _device_bundle(args: argparse.Namespace) -> int:
    from .device_bundle import GPU_CONFIG, bundle

    bundle(args.out, args.config or GPU_CONFIG, args.data_root, args.max_images, quality=args.quality,
           max_side=args.max_side, max_images_of=_split_caps(args.max_images_of))
    print("then: run `bash train/device_train.sh` on the device with .device carried (train/EXPERIMENTS.md)")
    return 0

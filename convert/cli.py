"""``skyseg export``, ``quantize``, ``build-repo`` and ``build-plan``."""
from __future__ import annotations

import argparse
import glob
import logging
from pathlib import Path

import numpy as np

from skyseg.assets import DEFAULT_INT8_ONNX, DEFAULT_ONNX
from skyseg.train.runner import DEFAULT_CONFIG, load_contract

from .repository import CHECKOUT_REPOSITORY, INT8_ONNX_FILE, ONNX_FILE, ServingOptions

log = logging.getLogger("skyseg.convert")
#: Where export and quantize write unless told otherwise: never the embedded default, which is
#: replaced only by an explicit ``--out skyseg/models/...`` (then ``skyseg build-repo``).
WORK_EXPORT = Path("work_dirs/export")
DEFAULT_PARITY_IMAGES = "../shared/data/camvid/test/*.jpg"


def register_export(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export a checkpoint to ONNX and check parity with PyTorch")
    p.add_argument("checkpoint", type=Path, help="training or inference checkpoint (.pth)")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("--out", type=Path, default=WORK_EXPORT / ONNX_FILE,
                   help=f"ONNX file (default {WORK_EXPORT / ONNX_FILE}; the shipped default changes only with "
                        f"--out {DEFAULT_ONNX.relative_to(DEFAULT_ONNX.parents[2])})")
    p.add_argument("--inference-checkpoint", type=Path,
                   help="also write a weights-only checkpoint (no optimizer state) here")
    p.add_argument("--parity-images", default=DEFAULT_PARITY_IMAGES,
                   help="glob of real images for the parity check (8 are used)")
    p.add_argument("--no-simplify", action="store_true")
    p.set_defaults(func=_export)

    p = subparsers.add_parser("interpolate", help="weights between a start network and its fine-tuned one (WiSE-FT)")
    p.add_argument("start", type=Path, help="the checkpoint the fine-tuning started from")
    p.add_argument("finetuned", type=Path, help="the fine-tuned checkpoint")
    p.add_argument("--alpha", type=float, required=True, help="share of the fine-tuned weights (1 = finetuned)")
    p.add_argument("--out", type=Path, required=True, help="inference checkpoint to write")
    p.set_defaults(func=_interpolate)

    p = subparsers.add_parser("soup", help="the uniform average of several runs' weights (a model soup)")
    p.add_argument("checkpoints", type=Path, nargs="+", help="checkpoints of one network, two or more")
    p.add_argument("--out", type=Path, required=True, help="inference checkpoint to write")
    p.set_defaults(func=_soup)


#: Training images only; the teacher-labelled outdoor photos bring the blue, dusk and sunset skies
#: whose activations the street sets never reach (skipped where not prepared).
DEFAULT_CALIBRATION = ["data/sky/camvid_train/images/*.jpg", "data/sky/cityscapes_sky/images/*.jpg",
                       "data/sky/ade20k_sky/images/*.jpg", "data/sky/idd_train/images/*.jpg",
                       "data/sky/sun_outdoor/images/*.jpg"]


def register_quantize(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("quantize", help="INT8 ONNX (static QDQ) calibrated on training images")
    p.add_argument("--onnx", type=Path, default=WORK_EXPORT / ONNX_FILE, help="the FP32 model (default: export's)")
    p.add_argument("--out", type=Path, help=f"INT8 file (default: {INT8_ONNX_FILE} beside --onnx)")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("--calibration", nargs="+", default=DEFAULT_CALIBRATION,
                   help="globs of training images (never the evaluation sets)")
    p.add_argument("--count", type=int, default=64, help="calibration images, spread over the globs")
    p.add_argument("--quantize-depthwise", action="store_true",
                   help="also quantize depthwise convs (slower on AVX2 CPUs without VNNI)")
    p.set_defaults(func=_quantize)


def calibration_images(patterns: list[str], count: int) -> list[Path]:
    """An even spread over each glob, so every dataset is represented."""
    groups = [sorted(glob.glob(p)) for p in patterns]
    groups = [g for g in groups if g]
    if not groups:
        raise FileNotFoundError(f"no calibration images match {patterns}; run `skyseg prepare-data`")
    per_group = max(1, count // len(groups))
    return [Path(g[int(i * len(g) / per_group)]) for g in groups for i in range(min(per_group, len(g)))]


def _quantize(args: argparse.Namespace) -> int:

    from .quantize import quantize_int8

    images = calibration_images(args.calibration, args.count)
    out = quantize_int8(args.onnx, args.out or args.onnx.with_name(INT8_ONNX_FILE), images,
                        load_contract(args.config), keep_depthwise_fp32=not args.quantize_depthwise)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB), calibrated on {len(images)} images")
    return 0


def register_build_plan(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("build-plan", help="build the FP16 TensorRT plan for this GPU into a GPU repository")
    p.add_argument("--repository", type=Path, default=Path("model_repository_gpu"),
                   help="a repository written by `skyseg build-repo --target gpu`")
    p.add_argument("--cache", type=Path, default=Path(".cache/plans"), help="plans and timing caches, by GPU and TensorRT")
    p.add_argument("--workspace-mib", type=int, default=2048)
    p.add_argument("--print-trtexec", action="store_true", help="print the equivalent trtexec command and exit")
    p.add_argument("--parity-images", default=DEFAULT_PARITY_IMAGES,
                   help="glob of real images for the plan-vs-ONNX Runtime check (needs TensorRT + CUDA torch)")
    p.set_defaults(func=_build_plan)


def plan_spec(repository: Path, workspace_mib: int = 2048):
    """The plan's shapes come from the repository's own config.pbtxt (the contract), not from mmseg."""
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2 as mc

    from skyseg.contract import MODEL_INPUT, NETWORK, PREPROCESS

    from .tensorrt_plan import PlanSpec

    def read(model: str) -> mc.ModelConfig:
        return text_format.Parse((repository / model / "config.pbtxt").read_text(), mc.ModelConfig())

    config = read(NETWORK)
    if config.platform != "tensorrt_plan":
        raise ValueError(f"{repository} is not a GPU repository: run `skyseg build-repo --target gpu --out {repository}`")
    # The full input box is the warm-up's shape; canvases follow each image down to one size_divisor.
    _, height, width = config.model_warmup[0].inputs[MODEL_INPUT].dims
    divisor = int(read(PREPROCESS).parameters["size_divisor"].string_value or 0)
    min_hw = (divisor, divisor) if divisor else (height, width)
    versions = sorted((int(d.name) for d in (repository / NETWORK).iterdir() if d.name.isdigit()), reverse=True)
    if not versions:
        raise ValueError(f"{repository / NETWORK} has no version folder: write it with `skyseg build-repo --target gpu`")
    return PlanSpec(repository / NETWORK / str(versions[0]) / ONNX_FILE, (height, width), config.max_batch_size, workspace_mib,
                    min_hw=min_hw)


def _build_plan(args: argparse.Namespace) -> int:
    from .tensorrt_plan import build_plan, host_identity, install_plan, trtexec_command

    spec = plan_spec(args.repository, args.workspace_mib)
    if args.print_trtexec:
        print(" ".join(trtexec_command(spec, args.cache / "model.<gpu>.<tensorrt>.plan", args.cache / "timing.cache")))
        return 0
    identity = host_identity()
    plan = build_plan(spec, args.cache, identity)
    installed = install_plan(plan, spec.onnx.parent, identity)
    print(f"plan for {identity.gpu} (sm{identity.compute_capability}, TensorRT {identity.tensorrt}): {installed}")
    print("equivalent: " + " ".join(trtexec_command(spec, plan, args.cache / "timing.cache")))
    try:
        import tensorrt  # noqa: F401
        import torch
        if not torch.cuda.is_available():
            raise ImportError("torch has no CUDA")
    except ImportError as exc:
        print(f"plan parity check skipped: {exc}")
        return 0
    from skyseg.contract import Contract

    from .tensorrt_parity import check_plan_parity

    contract = Contract.from_onnx(spec.onnx)
    print(check_plan_parity(installed, spec.onnx, contract, parity_images(args.parity_images)))
    return 0


def register_build_repo(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("build-repo", help="write the Triton model repository for a model (default: the embedded one)")
    p.add_argument("--onnx", type=Path, default=DEFAULT_ONNX,
                   help="the FP32 model, from `skyseg export` (default: the embedded default model)")
    p.add_argument("--precision", choices=["fp32", "int8"],
                   help="model the CPU network step runs: int8 (the CPU default; `skyseg quantize`, about "
                        "twice the FP32 throughput on AVX2 at -0.07 CamVid IoU) or fp32 (the exported model). "
                        "The GPU target always builds an FP16 TensorRT plan from the FP32 model.")
    p.add_argument("--onnx-int8", type=Path,
                   help="the INT8 model (default: the embedded one with the default --onnx, else "
                        f"{INT8_ONNX_FILE} beside --onnx)")
    p.add_argument("--config", type=Path,
                   help="derive the contract (input size, mean/std, refinement) from this training config "
                        "(needs the train extra) instead of the metadata `skyseg export` wrote into --onnx")
    p.add_argument("--target", choices=["cpu", "gpu"], default="cpu",
                   help="gpu: the network step is a TensorRT plan built on the GPU host (see docker/)")
    p.add_argument("--out", type=Path, default=CHECKOUT_REPOSITORY if CHECKOUT_REPOSITORY.is_dir() else None,
                   required=not CHECKOUT_REPOSITORY.is_dir(),
                   help="repository folder (default in a checkout: its model_repository/)")
    p.add_argument("--version", type=int, default=1,
                   help="the network's version folder (default 1). Written beside the served version of a "
                        "server in explicit model control, `POST /v2/repository/models/bisenetv2/load` swaps "
                        "it in with no failed request (README, \"Updating the model without downtime\")")
    p.add_argument("--link", action=argparse.BooleanOptionalAction,
                   help="symlink the package's files instead of copying them (default: only for the "
                        "checkout's own model_repository/, which then holds no second copy of any code)")
    defaults = ServingOptions()
    for field, value in vars(defaults).items():
        p.add_argument("--" + field.replace("_", "-"), type=int, default=value)
    p.set_defaults(func=_build_repo)


def parity_images(pattern: str, count: int = 8) -> list[np.ndarray]:
    """Real RGB images when available (plus a 16:9 and a portrait crop of the first, so canvases of
    other shapes are checked too); otherwise synthetic ones, said out loud."""
    import cv2

    paths = sorted(glob.glob(pattern))[:count]
    if paths:
        images = [cv2.cvtColor(cv2.imread(p, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for p in paths]
        h, w = images[0].shape[:2]
        return images + [images[0][: w * 9 // 16], images[0][:, : h * 3 // 4]]
    log.warning("no images match %s: checking parity on %d synthetic images instead", pattern, count)
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (rng.integers(64, 700), rng.integers(64, 900), 3), dtype=np.uint8)
            for _ in range(count)]


def _soup(args: argparse.Namespace) -> int:
    from .network import average_weights

    print(f"wrote {average_weights(args.checkpoints, args.out)}")
    return 0


def _interpolate(args: argparse.Namespace) -> int:
    from .network import interpolate_weights

    print(f"wrote {interpolate_weights(args.start, args.finetuned, args.alpha, args.out)}")
    return 0


def _export(args: argparse.Namespace) -> int:

    from .export import export_onnx
    from .network import build_network, save_inference_checkpoint
    from .parity import check_parity

    contract = load_contract(args.config)
    net = build_network(args.config, args.checkpoint)
    onnx_path = export_onnx(net, contract, args.out, simplify=not args.no_simplify)
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB)")
    print(check_parity(net, onnx_path, contract, parity_images(args.parity_images)))
    if args.inference_checkpoint:
        out = save_inference_checkpoint(args.checkpoint, args.inference_checkpoint,
                                        meta={"contract": contract.to_json(), "config": Path(args.config).name})
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def _build_repo(args: argparse.Namespace) -> int:
    from skyseg.contract import Contract

    from .repository import build_repository

    opts = ServingOptions(**{f: getattr(args, f) for f in vars(ServingOptions())})
    checkout = args.out.resolve() == CHECKOUT_REPOSITORY.resolve()
    if args.target == "gpu" and checkout:
        raise ValueError("write the GPU repository elsewhere (--out model_repository_gpu): "
                         "model_repository/ is the CPU repository")
    precision = args.precision or ("int8" if args.target == "cpu" else "fp32")
    int8 = None
    if precision == "int8":
        int8 = args.onnx_int8 or (DEFAULT_INT8_ONNX if args.onnx == DEFAULT_ONNX else args.onnx.with_name(INT8_ONNX_FILE))
        if not int8.is_file():
            raise FileNotFoundError(f"no INT8 model {int8}: write it with `skyseg quantize --onnx {args.onnx}`, "
                                    "or serve FP32 with --precision fp32")
    contract = load_contract(args.config) if args.config else Contract.from_onnx(args.onnx)
    link = checkout if args.link is None else args.link
    for path in build_repository(contract, args.onnx, args.out, opts, target=args.target, int8_onnx=int8, link=link,
                                 version=args.version):
        print(f"wrote {path}")
    return 0

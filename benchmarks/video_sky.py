"""Does a candidate network keep the sky a baseline finds in real videos? (the E11 check, made a script)

    python -m benchmarks.video_sky --candidate work_dirs/x/model.int8.onnx
    python -m benchmarks.video_sky --candidate X.onnx --candidate-config CFG --every 5

Both networks run every ``--every``-th frame through the served ops (letterbox, network, the
config's refinement, threshold) in ONNX Runtime. Per video it prints the sky share of the frame for
each, the largest loss, and how many frames lose more than ``--tolerance`` of the frame, and writes
``<video>_sky.png`` (frame | baseline | candidate at the frame of largest loss). Stage 4 (E11) lost
the grey cumulus of ``field_annarbor.mp4`` (5.6% of each frame) that no labelled set measured.
Exit status 1 if a video loses sky beyond the tolerance.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common.images import ROOT, SHARED
from skyseg.assets import DEFAULT_INT8_ONNX

VIDEOS = SHARED / "videos"
DEFAULT_BASELINE = DEFAULT_INT8_ONNX


def sky_masks(onnx: Path, config: Path, frames: list[np.ndarray]) -> list[np.ndarray]:
    """0/255 masks of BGR ``frames`` through the served ops under ``config``'s contract."""
    from skyseg.convert.parity import ort_session
    from skyseg.train.runner import load_contract

    from skyseg import pipeline

    contract = load_contract(config)
    session = ort_session(onnx)
    name = session.get_inputs()[0].name
    masks = []
    for frame in frames:
        tensor, geometry, guide = pipeline.prepare(np.ascontiguousarray(frame[..., ::-1]), contract)
        masks.append(pipeline.to_mask(session.run(None, {name: tensor[None]})[0][0], geometry, guide, contract))
    return masks


def read_frames(video: Path, every: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    frames, index = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % every == 0:
            frames.append(frame)
        index += 1
    capture.release()
    if not frames:
        raise ValueError(f"{video}: no frames could be read")
    return frames


def _overlay(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = frame.copy()
    sky = mask > 0
    out[sky] = (0.5 * out[sky] + np.float32([127, 64, 0])).astype(np.uint8)
    return out


def compare_video(video: Path, baseline: tuple[Path, Path], candidate: tuple[Path, Path], every: int,
                  out: Path) -> dict:
    frames = read_frames(video, every)
    base = sky_masks(*baseline, frames)
    cand = sky_masks(*candidate, frames)
    base_share = np.array([np.mean(m > 0) for m in base])
    cand_share = np.array([np.mean(m > 0) for m in cand])
    # sky the baseline finds that the candidate drops, as a share of the frame
    lost = np.array([np.mean((b > 0) & (c == 0)) for b, c in zip(base, cand)])
    worst = int(np.argmax(lost))
    out.mkdir(parents=True, exist_ok=True)
    picture = out / f"{video.stem}_sky.png"
    row = [frames[worst], _overlay(frames[worst], base[worst]), _overlay(frames[worst], cand[worst])]
    cv2.imwrite(str(picture), np.hstack([cv2.resize(f, (480, round(480 * f.shape[0] / f.shape[1]))) for f in row]))
    return {"video": video.name, "frames": len(frames), "every": every,
            "baseline_sky_pct": 100 * float(base_share.mean()), "candidate_sky_pct": 100 * float(cand_share.mean()),
            "lost_pct_mean": 100 * float(lost.mean()), "lost_pct_max": 100 * float(lost.max()),
            "worst_frame": worst * every, "picture": str(picture)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.video_sky", description=__doc__.split("\n")[0])
    p.add_argument("--candidate", type=Path, required=True, help="the candidate ONNX network")
    p.add_argument("--candidate-config", type=Path, help="its training config (refinement; default: the shipped one)")
    p.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    p.add_argument("--baseline-config", type=Path)
    p.add_argument("--videos", type=Path, nargs="+",
                   default=[VIDEOS / "field_annarbor.mp4", VIDEOS / "highway_solidWhiteRight.mp4"])
    p.add_argument("--every", type=int, default=5, help="every n-th frame (default 5)")
    p.add_argument("--tolerance", type=float, default=1.0,
                   help="largest mean share of the frame (percent) the candidate may lose (default 1.0)")
    p.add_argument("--out", type=Path, default=ROOT / "out" / "video_sky")
    args = p.parse_args(argv)
    from skyseg.train.runner import DEFAULT_CONFIG

    missing = [str(v) for v in args.videos if not v.exists()]
    if missing:
        print(f"skipped: videos not found ({', '.join(missing)}); they live in ../shared/data/videos")
        return 0
    results = [compare_video(v, (args.baseline, args.baseline_config or DEFAULT_CONFIG),
                             (args.candidate, args.candidate_config or DEFAULT_CONFIG), args.every, args.out)
               for v in args.videos]
    failed = False
    for r in results:
        verdict = "keeps its sky" if r["lost_pct_mean"] <= args.tolerance else "LOSES SKY"
        failed |= r["lost_pct_mean"] > args.tolerance
        print(f"{r['video']}: sky {r['baseline_sky_pct']:.1f}% -> {r['candidate_sky_pct']:.1f}% of the frame; "
              f"lost {r['lost_pct_mean']:.2f}% on average, {r['lost_pct_max']:.2f}% at most (frame {r['worst_frame']}): "
              f"{verdict}; {r['picture']}")
    (args.out / "video_sky.json").write_text(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

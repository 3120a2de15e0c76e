"""``make demo``: Triton on CPU with the embedded model, sample images and a video, results on disk."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from skyseg import samples
from skyseg.serving import DEFAULT_REPOSITORY, TritonServer, free_port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument("--model-repository", type=Path, default=DEFAULT_REPOSITORY)
    args = parser.parse_args(argv)
    from skyseg_client.cli import main as skyseg

    images = samples.write_images(args.out / "inputs")
    video = samples.write_video(args.out / "inputs" / "pan.mp4")
    print(f"inputs: {len(images)} images and {video} in {args.out / 'inputs'}")
    server = TritonServer(args.model_repository, http_port=free_port(), grpc_port=free_port(),
                          metrics_port=free_port())
    print(f"starting tritonserver on {server.repository} ...", flush=True)
    with server:
        print(f"ready: gRPC {server.grpc_url}, HTTP {server.http_url}", flush=True)
        status = skyseg(["segment", *map(str, images), "-o", str(args.out / "masks"), "--url", server.grpc_url])
        status |= skyseg(["video", str(video), "-o", str(args.out / "pan_sky.mp4"), "--url", server.grpc_url])
    print("server stopped\n\nresults:")
    for image in images:
        mask = cv2.imread(str(args.out / "masks" / f"{image.stem}_mask.png"), cv2.IMREAD_GRAYSCALE)
        sky = 100 * float(np.mean(mask == 255)) if mask is not None else float("nan")
        print(f"  {image.name:28s} mask {mask.shape[1]}x{mask.shape[0]}, sky {sky:5.1f}% of pixels")
    print(f"  masks and overlays in {args.out / 'masks'}, overlay video {args.out / 'pan_sky.mp4'}")
    return status


if __name__ == "__main__":
    sys.exit(main())

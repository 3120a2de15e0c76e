"""``make demo``: Triton on CPU with the embedded model, real photos and a video, results on disk.

The photos (skyseg/demo_photos/, sources and licences in its NOTICE.md) are a blue sky, a dusk, a
road under a clear sky and a photo without sky; the demo writes their masks and overlays, gives the first a new sky, and
segments a generated video.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

from skyseg import samples
from skyseg.serving import DEFAULT_REPOSITORY, TritonServer, free_port

PHOTOS = Path(__file__).resolve().parent / "demo_photos"
REPLACED = "pagoda_blue_sky.jpg"  #: the photo the demo gives a new sky


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument("--model-repository", type=Path, default=DEFAULT_REPOSITORY)
    args = parser.parse_args(argv)
    from skyseg_client.cli import main as skyseg

    inputs = args.out / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    images = [Path(shutil.copy(photo, inputs)) for photo in sorted(PHOTOS.glob("*.jpg"))]
    new_sky = inputs / "sunset_sky.jpg"
    cv2.imwrite(str(new_sky), samples.render_sunset_sky(960, 540))
    video = samples.write_video(inputs / "pan.mp4")
    print(f"inputs: {len(images)} photos (licences: {PHOTOS / 'NOTICE.md'}), a generated sky and {video} in {inputs}")
    server = TritonServer(args.model_repository, http_port=free_port(), grpc_port=free_port(),
                          metrics_port=free_port())
    print(f"starting tritonserver on {server.repository} ...", flush=True)
    with server:
        print(f"ready: gRPC {server.grpc_url}, HTTP {server.http_url}", flush=True)
        status = skyseg(["segment", *map(str, images), "-o", str(args.out / "masks"), "--url", server.grpc_url])
        status |= skyseg(["replace", str(inputs / REPLACED), "--sky", str(new_sky), "-o", str(args.out / "replaced"),
                          "--url", server.grpc_url])
        status |= skyseg(["video", str(video), "-o", str(args.out / "pan_sky.mp4"), "--url", server.grpc_url])
    print("server stopped\n\nresults:")
    for image in images:
        mask = cv2.imread(str(args.out / "masks" / f"{image.stem}_mask.png"), cv2.IMREAD_GRAYSCALE)
        sky = 100 * float(np.mean(mask == 255)) if mask is not None else float("nan")
        print(f"  {image.name:28s} mask {mask.shape[1]}x{mask.shape[0]}, sky {sky:5.1f}% of pixels")
    print(f"  masks and overlays in {args.out / 'masks'}, a replaced sky in {args.out / 'replaced'}, "
          f"overlay video {args.out / 'pan_sky.mp4'}")
    return status


if __name__ == "__main__":
    sys.exit(main())

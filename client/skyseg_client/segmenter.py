"""Where the CLI's masks come from: a running server (``SkySegClient``) or, with ``--local``, this
process (``skyseg.local.LocalSegmenter``: the same ops and embedded model on ONNX Runtime). Both
offer ``segment``, ``segment_many`` and ``segment_frames``."""
from __future__ import annotations

import argparse

from .client import DEFAULT_URLS, SkySegClient
from .errors import SkySegError


def add_segmenter_args(parser: argparse.ArgumentParser, in_flight: int = 4) -> None:
    parser.add_argument("--url", help="server address, or several separated by commas (requests are spread "
                        "over them); default localhost:8001 for gRPC, :8000 for HTTP")
    parser.add_argument("--protocol", choices=sorted(DEFAULT_URLS), default="grpc")
    parser.add_argument("--local", action="store_true",
                        help="no server: run the embedded model in this process with ONNX Runtime "
                             "(pip install 'skyseg-client[local]')")
    parser.add_argument("--in-flight", "--concurrency", dest="in_flight", type=int, default=in_flight,
                        help=f"requests in flight on the server (default {in_flight})")


def open_segmenter(args: argparse.Namespace, shared_memory: bool = False):
    """The segmenter the arguments ask for; a server that does not answer is an error that says so."""
    if getattr(args, "local", False):
        try:
            from skyseg.local import LocalSegmenter
        except ImportError as exc:
            raise SkySegError(f"--local needs the skyseg package with ONNX Runtime ({exc}): "
                              "pip install 'skyseg-client[local]'") from None
        return LocalSegmenter()
    client = SkySegClient(args.url, args.protocol, max_in_flight=args.in_flight, shared_memory=shared_memory)
    if not client.is_ready():
        client.close()
        raise SkySegError(f"no skyseg server answers at {client.url} ({args.protocol}): start one with "
                          "`skyseg serve`, or segment in this process with --local")
    return client

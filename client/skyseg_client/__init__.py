"""Thin client for the skyseg Triton service: ``SkySegClient(url).segment(image) -> mask``."""
from .client import SkySegClient
from .errors import SkySegError
from .overlay import overlay

__all__ = ["SkySegClient", "SkySegError", "overlay"]
__version__ = "0.1.0"

"""Thin client for the skyseg Triton service: ``SkySegClient(url).segment(image) -> mask``."""
from .client import SkySegClient
from .errors import SkySegError
from .overlay import overlay
from .replace import replace_sky

__all__ = ["SkySegClient", "SkySegError", "overlay", "replace_sky"]
__version__ = "0.1.0"

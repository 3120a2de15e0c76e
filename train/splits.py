"""The converted splits no training may see: CamVid test, the choosing set and the fixed 20% of
the other sets. Defined once, for the dataset that refuses them and every tool that writes a split."""
from __future__ import annotations

HELD_OUT = ("camvid_test", "ade20k_dev", "idd_val")
HELD_OUT_SUFFIX = "_heldout"


def is_held_out(split: str) -> bool:
    return split in HELD_OUT or split.endswith(HELD_OUT_SUFFIX)

"""The converted splits no training may see: CamVid test, the choosing set and the fixed 20% of
the other sets. Defined once, for the dataset that refuses them and every tool that writes a split."""
from __future__ import annotations

from pathlib import Path

HELD_OUT = ("camvid_test", "ade20k_dev", "idd_val")
HELD_OUT_SUFFIX = "_heldout"


def is_held_out(split: str) -> bool:
    return split in HELD_OUT or split.endswith(HELD_OUT_SUFFIX)


def read_stem_list(path: str | Path) -> frozenset[str]:
    """Image stems from a reviewed list: one per line, ``#`` starts a comment. The wrong labels
    (train/teacher_label_errors.txt) that mining skips and datasets leave out, and the indoor
    photos of a mixed split (train/indoor_photos.txt)."""
    stems = {line.split("#", 1)[0].strip() for line in Path(path).read_text().splitlines()}
    return frozenset(stems - {""})

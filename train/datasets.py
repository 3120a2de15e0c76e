"""The two-class sky dataset, registered in MMSeg's DATASETS registry."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .labels import CLASSES


@DATASETS.register_module()
class SkyDataset(BaseSegDataset):
    """``<root>/<split>/images/*.jpg`` with ``<root>/<split>/masks/*.png`` (0 not_sky, 1 sky, 255 ignore)."""

    METAINFO = dict(classes=CLASSES, palette=[[0, 0, 0], [70, 130, 180]])

    def __init__(self, img_suffix: str = ".jpg", seg_map_suffix: str = ".png",
                 reduce_zero_label: bool = False, **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=reduce_zero_label, **kwargs)

"""The weather augmentation (train/transforms.py) through MMSeg's registry and a recipe's pipeline."""

import cv2
import numpy as np
import pytest

from skyseg import samples
from skyseg.train.runner import DEFAULT_CONFIG, load_config

WEATHER_CONFIG = DEFAULT_CONFIG.parent / "experiments" / "bisenetv2_fcn_1xb4-2k-ft6-weather_sky-384x512.py"


def _build(**kwargs):
    load_config(WEATHER_CONFIG)  # imports the config's custom modules, as training does
    from mmseg.registry import TRANSFORMS

    return TRANSFORMS.build(dict(type="RandomWeather", **kwargs))


def _scene():
    image, sky = samples.render_labeled_scene(160, 120, seed=3)
    return image, sky.astype(np.uint8)


def test_haze_lifts_the_top_of_the_frame_more_than_the_bottom_and_keeps_the_label():
    np.random.seed(0)
    image, label = _scene()
    dark = (image // 4).astype(np.uint8)  # far from the airlight, so the lift is measurable everywhere
    out = _build(haze_prob=1.0, haze_range=(0.4, 0.4), blur_prob=0.0, noise_prob=0.0).transform(
        {"img": dark.copy(), "gt_seg_map": label.copy()})
    lift = out["img"].astype(np.float32).mean(axis=(1, 2)) - dark.astype(np.float32).mean(axis=(1, 2))
    assert out["img"].dtype == np.uint8 and out["img"].shape == dark.shape
    assert lift[:10].mean() > 1.5 * lift[-10:].mean() > 0
    np.testing.assert_array_equal(out["gt_seg_map"], label)


def test_blur_and_noise_change_the_image_and_zero_probabilities_change_nothing():
    np.random.seed(1)
    image, _ = _scene()
    blurred = _build(haze_prob=0.0, blur_prob=1.0, blur_sigma=(1.5, 1.5), noise_prob=0.0).transform(
        {"img": image.copy()})["img"]
    assert np.abs(cv2.Laplacian(blurred, cv2.CV_32F)).mean() < 0.8 * np.abs(cv2.Laplacian(image, cv2.CV_32F)).mean()
    noisy = _build(haze_prob=0.0, blur_prob=0.0, noise_prob=1.0, noise_sigma=(8.0, 8.0)).transform(
        {"img": image.copy()})["img"]
    assert 4.0 < np.std(noisy.astype(np.float32) - image) < 12.0
    untouched = {"img": image.copy()}
    assert _build(haze_prob=0.0, blur_prob=0.0, noise_prob=0.0).transform(untouched)["img"] is untouched["img"]


def test_bad_settings_name_the_setting():
    with pytest.raises(ValueError, match="blur_prob"):
        _build(blur_prob=1.5)
    with pytest.raises(ValueError, match="haze_range"):
        _build(haze_range=(0.5, 1.0))


def test_the_weather_recipe_pipeline_runs_on_an_image_and_its_mask(tmp_path):
    """The E10 config's whole training pipeline, as MMSeg composes it, on one generated pair."""
    from mmcv.transforms import Compose

    image, label = _scene()
    cv2.imwrite(str(tmp_path / "x.jpg"), image)
    cv2.imwrite(str(tmp_path / "x.png"), label)
    cfg = load_config(WEATHER_CONFIG)
    from skyseg.train.datasets import effective_pipeline

    steps = effective_pipeline(cfg.train_dataloader.dataset.pipeline, cfg.train_dataloader.dataset.augment)
    assert [t["type"] for t in steps][-2:] == ["RandomWeather", "PackSegInputs"]
    pipeline = Compose(steps)
    np.random.seed(2)
    out = pipeline(dict(img_path=str(tmp_path / "x.jpg"), seg_map_path=str(tmp_path / "x.png"),
                        reduce_zero_label=False, seg_fields=[]))
    assert tuple(out["inputs"].shape) == (3, 384, 512)
    assert set(np.unique(out["data_samples"].gt_sem_seg.data.numpy())) <= {0, 1, 255}


def test_ignore_near_sky_drops_only_the_not_sky_label_bordering_the_sky_of_the_named_splits():
    """Cityscapes' canopy polygons border its sky; the ground far from the sky and the sky itself
    keep their labels, and a split not named is untouched."""
    load_config(WEATHER_CONFIG)
    from mmseg.registry import TRANSFORMS

    label = np.zeros((100, 120), np.uint8)
    label[:40] = 1  # sky above row 40
    label[90:, :10] = 255  # already ignored
    transform = TRANSFORMS.build(dict(type="IgnoreNearSky", width=8, splits=("cityscapes_sky",)))
    out = transform.transform({"img_path": "data/sky/cityscapes_sky/images/x.jpg", "gt_seg_map": label.copy()})
    result = out["gt_seg_map"]
    np.testing.assert_array_equal(result[:40], 1)
    np.testing.assert_array_equal(result[40:48], 255)  # within 8 px of the sky
    np.testing.assert_array_equal(result[49:90], 0)
    np.testing.assert_array_equal(result[90:, :10], 255)
    other = transform.transform({"img_path": "data/sky/camvid_train/images/x.jpg", "gt_seg_map": label.copy()})
    np.testing.assert_array_equal(other["gt_seg_map"], label)
    with pytest.raises(ValueError, match="width"):
        TRANSFORMS.build(dict(type="IgnoreNearSky", width=0))


def _recolor(**kwargs):
    load_config(DEFAULT_CONFIG.parent / "experiments" / "bisenetv2_fcn_1xb16-distil-recolor_sky-384x512-gpu.py")
    from mmseg.registry import TRANSFORMS

    return TRANSFORMS.build(dict(type="SkyRecolor", **kwargs))


@pytest.mark.parametrize("look", ["blue", "dusk", "sunset", "night", "overcast"])
def test_sky_recolor_repaints_only_the_labelled_sky_and_keeps_its_texture(look):
    image, sky = _scene()
    clouds = image.copy()
    clouds[10:20, 20:60][sky[10:20, 20:60] == 1] = 250  # a bright cloud in the sky
    out = _recolor(prob=1.0, looks=(look,))(dict(img=clouds.copy(), gt_seg_map=sky.copy()))
    assert (out["gt_seg_map"] == sky).all()
    ground = sky == 0
    assert (out["img"][ground] == clouds[ground]).all()
    assert np.abs(out["img"][sky == 1].astype(int) - clouds[sky == 1]).mean() > 5
    grey = cv2.cvtColor(out["img"], cv2.COLOR_BGR2GRAY).astype(int)
    cloud = np.zeros_like(sky, bool)
    cloud[10:20, 20:60] = sky[10:20, 20:60] == 1
    assert grey[cloud].mean() > grey[(sky == 1) & ~cloud].mean()  # the cloud stays brighter than its sky


def test_sky_recolor_with_probability_zero_or_no_sky_changes_nothing():
    image, sky = _scene()
    out = _recolor(prob=0.0)(dict(img=image.copy(), gt_seg_map=sky.copy()))
    assert (out["img"] == image).all()
    out = _recolor(prob=1.0)(dict(img=image.copy(), gt_seg_map=np.zeros_like(sky)))
    assert (out["img"] == image).all()


def test_sky_recolor_names_an_unknown_look():
    with pytest.raises(ValueError, match="looks must name"):
        _recolor(looks=("aurora",))


def _swap(**kwargs):
    load_config(DEFAULT_CONFIG.parent / "experiments" / "bisenetv2_fcn_1xb16-distil-skyswap_sky-384x512-gpu.py")
    from mmseg.registry import TRANSFORMS

    return TRANSFORMS.build(dict(type="SkySwap", **kwargs))


def _sky_source(root, stem, sky_rows_count, colour):
    """A source photo whose top ``sky_rows_count`` rows are labelled sky and painted ``colour``."""
    for sub in ("images", "masks"):
        (root / "sun_outdoor" / sub).mkdir(parents=True, exist_ok=True)
    image = np.full((80, 120, 3), 40, np.uint8)
    image[:sky_rows_count] = colour
    label = np.zeros((80, 120), np.uint8)
    label[:sky_rows_count] = 1
    cv2.imwrite(str(root / "sun_outdoor" / "images" / f"{stem}.jpg"), image)
    cv2.imwrite(str(root / "sun_outdoor" / "masks" / f"{stem}.png"), label)


def test_sky_swap_pastes_a_real_sky_inside_the_label_only(tmp_path):
    _sky_source(tmp_path, "blue", 40, (200, 120, 30))  # BGR: a blue sky
    image, sky = _scene()
    target = str(tmp_path / "camvid_train" / "images" / "x.jpg")
    out = _swap(prob=1.0, splits=("camvid_train",))(dict(img=image.copy(), gt_seg_map=sky.copy(), img_path=target))
    assert (out["gt_seg_map"] == sky).all()
    ground = sky == 0
    assert (out["img"][ground] == image[ground]).all()
    inner = cv2.erode(sky.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    blue = out["img"][inner].astype(int)
    assert (np.abs(blue - (200, 120, 30)).max(axis=1) <= 12).mean() > 0.95  # the source's sky, JPEG aside


def test_sky_swap_leaves_other_splits_and_sourceless_photos_alone(tmp_path):
    _sky_source(tmp_path, "shallow", 10, (200, 120, 30))  # too few all-sky rows to cut from
    image, sky = _scene()
    swap = _swap(prob=1.0, splits=("camvid_train",), min_rows=24)
    other = swap(dict(img=image.copy(), gt_seg_map=sky.copy(), img_path=str(tmp_path / "sun_outdoor/images/x.jpg")))
    assert (other["img"] == image).all()
    sourceless = swap(dict(img=image.copy(), gt_seg_map=sky.copy(),
                           img_path=str(tmp_path / "camvid_train/images/x.jpg")))
    assert (sourceless["img"] == image).all()
    with pytest.raises(FileNotFoundError, match="no sky photos"):
        _swap(prob=1.0, sources=("missing",))(dict(img=image.copy(), gt_seg_map=sky.copy(),
                                                   img_path=str(tmp_path / "camvid_train/images/x.jpg")))


UPWARD_CONFIG = DEFAULT_CONFIG.parent / "experiments" / "bisenetv2_fcn_1xb4-distil-upward_sky-384x512-cpu.py"


def _upward(**kwargs):
    load_config(UPWARD_CONFIG)
    from mmseg.registry import TRANSFORMS

    return TRANSFORMS.build(dict(type="UpwardView", **kwargs))


def test_upward_view_cuts_the_road_and_moves_image_and_label_together(tmp_path):
    """A level street frame, re-framed as if tilted up: the top row stays, the sky's share grows,
    the label keeps its values and still sits on the image's own sky-ground edge."""
    np.random.seed(4)
    image, sky = _scene()
    path = str(tmp_path / "camvid_train" / "images" / "x.jpg")
    out = _upward(prob=1.0, splits=("camvid_train",), cut_range=(0.4, 0.4), tilt_range=(0.1, 0.1))(
        dict(img=image.copy(), gt_seg_map=sky.copy(), img_path=path))
    assert out["img"].shape == image.shape and out["gt_seg_map"].shape == sky.shape
    np.testing.assert_array_equal(out["gt_seg_map"][0], sky[0])
    assert set(np.unique(out["gt_seg_map"])) <= {0, 1}  # every output pixel maps inside the frame
    assert out["gt_seg_map"].mean() > 1.3 * sky.mean()
    # the label moved with the image: warping the image by the same homography reproduces it
    warp = np.linalg.inv(cv2.getPerspectiveTransform(
        np.float32([[0, 0], [159, 0], [159, 119], [0, 119]]),
        np.float32([[0, 0], [159, 0], [159 * 0.9, 119 * 0.6], [159 * 0.1, 119 * 0.6]])))
    expected = cv2.warpPerspective(sky, warp, (160, 120), flags=cv2.INTER_NEAREST)
    assert (out["gt_seg_map"] == expected).mean() > 0.99


def test_upward_view_leaves_other_splits_and_zero_probability_alone(tmp_path):
    image, sky = _scene()
    upward = _upward(prob=1.0, splits=("camvid_train",))
    other = upward(dict(img=image.copy(), gt_seg_map=sky.copy(), img_path=str(tmp_path / "sun_outdoor/images/x.jpg")))
    assert (other["img"] == image).all() and (other["gt_seg_map"] == sky).all()
    never = _upward(prob=0.0)(dict(img=image.copy(), gt_seg_map=sky.copy(),
                                   img_path=str(tmp_path / "camvid_train/images/x.jpg")))
    assert (never["img"] == image).all()


def test_upward_view_names_a_bad_setting():
    with pytest.raises(ValueError, match="cut_range"):
        _upward(cut_range=(0.5, 1.0))
    with pytest.raises(ValueError, match="tilt_range"):
        _upward(tilt_range=(0.3, 0.1))

"""Decode (encoded images) or validate (raw RGB frames), letterbox and normalise.

Serves both ``preprocess`` (IMAGE, TYPE_STRING) and ``preprocess_raw`` (FRAME, TYPE_UINT8): ``skyseg
build-repo`` writes this file as both models' model.py, and the input's datatype in config.pbtxt
picks the mode. The input box, size divisor, mean and std come from the config's parameters, which
``skyseg build-repo`` writes from the contract. Each request's tensor is its image fitted into the box and padded only
to the size divisor, so a 16:9 image costs the network 288x512, not 384x512.
"""
import json

import cv2
import numpy as np
import triton_python_backend_utils as pb_utils

from skyseg_ops import (BadImageError, canvas_size, check_frame, decode_for_model, fit, keep_freed_memory,
                        letterbox)


def _parameter(config: dict, key: str) -> str:
    return config["parameters"][key]["string_value"]


class TritonPythonModel:
    def initialize(self, args):
        # One OpenCV thread per stub: Triton scales with instances, and OpenCV's own pool spins on
        # cores the network is using (measured with 2 cores: 32.0 -> 33.8 images/s, RESULTS.md).
        cv2.setNumThreads(1)
        keep_freed_memory()  # its decode and tensor buffers page-faulted anew on every request
        config = json.loads(args["model_config"])
        (model_input,) = config["input"]
        self.input_name = model_input["name"]
        self.encoded = model_input["data_type"] == "TYPE_STRING"
        self.input_hw = (int(_parameter(config, "input_height")), int(_parameter(config, "input_width")))
        self.mean = np.asarray(json.loads(_parameter(config, "mean")), dtype=np.float32)
        self.std = np.asarray(json.loads(_parameter(config, "std")), dtype=np.float32)
        self.size_divisor = int(_parameter(config, "size_divisor"))
        self.max_pixels = int(_parameter(config, "max_pixels"))
        self.max_bytes = int(_parameter(config, "max_bytes"))
        self.tensor_out, self.geometry_out, self.guide_out = (o["name"] for o in config["output"])
        self.tensor_dtype = pb_utils.triton_string_to_numpy(config["output"][0]["data_type"])

    def execute(self, requests):
        return [self._respond(request) for request in requests]

    def _respond(self, request):
        try:
            batch, geometry, guides = self._prepare(pb_utils.get_input_tensor_by_name(request, self.input_name))
        except BadImageError as exc:  # the caller's fault: INVALID_ARG tells clients not to retry
            error = pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
            return pb_utils.InferenceResponse(output_tensors=[], error=error)
        return pb_utils.InferenceResponse(output_tensors=[
            pb_utils.Tensor(self.tensor_out, batch.astype(self.tensor_dtype, copy=False)),
            pb_utils.Tensor(self.geometry_out, geometry),
            pb_utils.Tensor(self.guide_out, guides),
        ])

    def _prepare(self, tensor):
        decoded = [self._decode(item) for item in tensor.as_numpy()]
        # One canvas per request: the padded size of its largest image (usually its only one).
        canvases = [canvas_size(fit(hw, self.input_hw), self.input_hw, self.size_divisor) for _, hw in decoded]
        canvas = (max(h for h, _ in canvases), max(w for _, w in canvases))
        batch = np.empty((len(decoded), 3, *canvas), dtype=np.float32)
        geometry = np.empty((len(decoded), 4), dtype=np.int32)
        guides = np.empty((len(decoded), *canvas), dtype=np.uint8)
        for i, (rgb, original_hw) in enumerate(decoded):
            _, geometry[i] = letterbox(rgb, self.input_hw, self.mean, self.std, out=batch[i],
                                       original_hw=original_hw, guide=guides[i])
        return batch, geometry, guides

    def _decode(self, item):
        """(RGB, original (h, w)) of one image or frame, its size checked against ``max_pixels``."""
        if self.encoded:
            return decode_for_model(item.reshape(-1)[0], self.input_hw, self.input_name,
                                    self.max_pixels, self.max_bytes)
        rgb = check_frame(item, self.input_name)
        if rgb.shape[0] * rgb.shape[1] > self.max_pixels:
            raise BadImageError(f"{self.input_name} has {rgb.shape[1]}x{rgb.shape[0]} pixels, "
                                f"more than the configured limit of {self.max_pixels}")
        return rgb, rgb.shape[:2]

"""Decode (encoded images) or validate (raw RGB frames), letterbox and normalise.

Serves both ``preprocess`` (IMAGE, TYPE_STRING) and ``preprocess_raw`` (FRAME, TYPE_UINT8; this
file is symlinked there): the input's datatype in config.pbtxt picks the mode. Input size,
mean and std come from the config's parameters, which ``skyseg build-repo`` writes from the
training config.
"""
import json

import numpy as np
import triton_python_backend_utils as pb_utils

from skyseg_ops import BadImageError, check_frame, decode_for_model, letterbox


def _parameter(config: dict, key: str) -> str:
    return config["parameters"][key]["string_value"]


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        (model_input,) = config["input"]
        self.input_name = model_input["name"]
        self.encoded = model_input["data_type"] == "TYPE_STRING"
        self.input_hw = (int(_parameter(config, "input_height")), int(_parameter(config, "input_width")))
        self.mean = np.asarray(json.loads(_parameter(config, "mean")), dtype=np.float32)
        self.std = np.asarray(json.loads(_parameter(config, "std")), dtype=np.float32)
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
        items = tensor.as_numpy()
        batch = np.empty((len(items), 3, *self.input_hw), dtype=np.float32)
        geometry = np.empty((len(items), 4), dtype=np.int32)
        guides = np.empty((len(items), *self.input_hw), dtype=np.uint8)
        for i, item in enumerate(items):
            if self.encoded:
                rgb, original_hw = decode_for_model(item.reshape(-1)[0], self.input_hw, self.input_name,
                                                    self.max_pixels, self.max_bytes)
            else:
                rgb = check_frame(item, self.input_name)
                original_hw = rgb.shape[:2]
            if original_hw[0] * original_hw[1] > self.max_pixels:
                raise BadImageError(f"{self.input_name} has {original_hw[1]}x{original_hw[0]} pixels, "
                                    f"more than the configured limit of {self.max_pixels}")
            _, geometry[i] = letterbox(rgb, self.input_hw, self.mean, self.std, out=batch[i],
                                       original_hw=original_hw, guide=guides[i])
        return batch, geometry, guides

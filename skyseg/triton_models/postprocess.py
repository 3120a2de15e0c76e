"""Refine the sky probability along the image's edges, upsample it to each image's original size,
threshold it and send it bit-packed (MASK_BITS) with its size (MASK_SIZE), or plain (MASK): each
form only when the request asks for it (the bit-packed and the plain ensembles map one form each)."""
import json

import cv2
import numpy as np
import triton_python_backend_utils as pb_utils

from skyseg_ops import Refinement, keep_freed_memory, logits_to_mask, pack_mask


class TritonPythonModel:
    def initialize(self, args):
        # One OpenCV thread per stub: Triton scales with instances, and OpenCV's own pool spins on
        # cores the network is using (measured with 2 cores: 32.0 -> 33.8 images/s, RESULTS.md).
        cv2.setNumThreads(1)
        keep_freed_memory()  # 2 MB buffers page-faulted anew on every request (1.5 core-ms each)
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config["parameters"].items()}
        self.sky_index = int(params["sky_index"])
        self.refinement = Refinement(**json.loads(params["refinement"]))  # checked as it is built
        self.logits_in, self.geometry_in, self.guide_in = (i["name"] for i in config["input"])
        self.bits_out, self.size_out, self.mask_out = (o["name"] for o in config["output"])

    def execute(self, requests):
        return [self._respond(request) for request in requests]

    def _respond(self, request):
        logits = pb_utils.get_input_tensor_by_name(request, self.logits_in).as_numpy()
        geometry = pb_utils.get_input_tensor_by_name(request, self.geometry_in).as_numpy()
        guides = pb_utils.get_input_tensor_by_name(request, self.guide_in).as_numpy()
        if len({tuple(g[:2]) for g in geometry}) > 1:
            error = pb_utils.TritonError("images batched in one request must share a size; "
                                         "send one image per request and let the server batch",
                                         pb_utils.TritonError.INVALID_ARG)
            return pb_utils.InferenceResponse(output_tensors=[], error=error)
        masks = np.stack([logits_to_mask(l, g, guide.shape, self.sky_index, guide, self.refinement)
                          for l, g, guide in zip(logits, geometry, guides, strict=True)])
        wanted = request.requested_output_names()
        outputs = []
        if self.bits_out in wanted:
            outputs.append(pb_utils.Tensor(self.bits_out, pack_mask(masks)))
        if self.size_out in wanted:
            outputs.append(pb_utils.Tensor(self.size_out, np.ascontiguousarray(geometry[:, :2])))
        if self.mask_out in wanted:
            outputs.append(pb_utils.Tensor(self.mask_out, masks))
        return pb_utils.InferenceResponse(output_tensors=outputs)

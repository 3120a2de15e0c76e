"""The BiSeNetV2 network on CPU: ONNX Runtime inside a Python model.

The pip-installable tritonserver has no onnxruntime backend, so this model stands in for it.
Triton's dynamic batcher hands ``execute`` several requests; those with the same canvas size are
stacked into one ORT call, which is where batching pays off on CPU. On GPU the repository uses a
TensorRT plan instead.
"""
import json
import os

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(params.get("intra_op_threads", "0"))
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads spin-wait by default; a repository option, off by default (no gain
        # measured at 2 threads on the 2-core CPU, and no pool to spin at 1 thread per instance).
        options.add_session_config_entry("session.intra_op.allow_spinning", params.get("allow_spinning", "1"))
        self.session = ort.InferenceSession(os.path.join(version_dir, params["onnx_file"]),
                                            sess_options=options, providers=["CPUExecutionProvider"])
        self.input_name = config["input"][0]["name"]
        self.output_name = config["output"][0]["name"]

    def execute(self, requests):
        inputs = [pb_utils.get_input_tensor_by_name(r, self.input_name).as_numpy() for r in requests]
        groups: dict = {}  # canvas size -> indices of its requests
        for i, x in enumerate(inputs):
            groups.setdefault(x.shape[1:], []).append(i)
        responses = [None] * len(requests)
        for members in groups.values():
            for i, response in zip(members, self._run([inputs[i] for i in members]), strict=True):
                responses[i] = response
        return responses

    def _run(self, inputs):
        """One ORT call for same-shape inputs; a failure is every member's error response."""
        try:
            batch = inputs[0] if len(inputs) == 1 else np.concatenate(inputs)  # no copy for a lone request
            logits = self.session.run([self.output_name], {self.input_name: batch})[0]
        except Exception as exc:  # noqa: BLE001 - every request of the failed batch gets the reason
            error = pb_utils.TritonError(f"ONNX Runtime failed: {exc}")
            return [pb_utils.InferenceResponse(output_tensors=[], error=error) for _ in inputs]
        bounds = np.cumsum([len(x) for x in inputs])[:-1]
        return [pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(self.output_name, part)])
                for part in np.split(logits, bounds)]

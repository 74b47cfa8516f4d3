"""Checks an ONNX file written by DigitClassifier.ExportOnnx with the ONNX project's own tools.

    python3 tests/peer/onnx_check.py artifacts/onnx/convnet.onnx
    python3 tests/peer/onnx_check.py artifacts/onnx/lenet.onnx

1. onnx.checker.check_model (full check: the file against the ONNX specification and the operators'
   schemas) and strict shape inference, which must find logits [N, 10] for input [N, 1, 28, 28].
2. ONNX's reference evaluator (a plain NumPy reading of each operator's specification) runs the graph,
   and PyTorch's network of the graph's name (ConvNet: tests/peer/convnet.py; LeNet: tests/peer/lenet.py) runs
   with the file's initializers as its state_dict; the
   logits must agree to 1e-5. So the graph means what the network computes, by a reader that is neither
   ONNX Runtime nor TorchSharp.
Exit code 0 when all holds, 1 otherwise (with the reason).
"""
import sys

import numpy as np
import torch

try:
    import onnx
    from onnx import numpy_helper, shape_inference
    from onnx.reference import ReferenceEvaluator
except ImportError:
    sys.exit("onnx_check.py needs the onnx package (Debian: apt-get install python3-onnx; elsewhere: pip install onnx)")

from convnet import ConvNet, configure_kernels
from lenet import LeNet

NETWORKS = {"ConvNet": ConvNet, "LeNet": LeNet}

TOLERANCE = 1e-5


def main(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    output = inferred.graph.output[0]
    dims = [d.dim_param or d.dim_value for d in output.type.tensor_type.shape.dim]
    if output.name != "logits" or dims != ["N", 10]:
        sys.exit(f"{path}: output {output.name} {dims}, expected logits ['N', 10]")
    opset = {o.domain: o.version for o in model.opset_import}.get("", 0)

    configure_kernels("native")
    if model.graph.name not in NETWORKS:
        sys.exit(f"{path}: graph {model.graph.name!r} is none of {', '.join(NETWORKS)}")
    net = NETWORKS[model.graph.name]()
    state = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    net.load_state_dict(state, strict=True)
    net.eval()

    images = np.random.default_rng(0).random((9, 1, 28, 28), dtype=np.float32)
    images[0] = 0
    reference = ReferenceEvaluator(model).run(None, {"input": images})[0]
    with torch.no_grad():
        expected = net(torch.from_numpy(images)).numpy()
    worst = float(np.abs(reference - expected).max())
    print(f"{path} ({model.graph.name}): checker and strict shape inference passed (IR {model.ir_version}, opset {opset}, "
          f"{len(model.graph.node)} nodes: {' '.join(n.op_type for n in model.graph.node)}); "
          f"reference evaluator vs PyTorch on {len(images)} images: largest logit difference {worst:.2e}")
    if worst > TOLERANCE:
        sys.exit(f"{path}: the ONNX graph's logits differ from PyTorch's by {worst:.2e} (> {TOLERANCE})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: onnx_check.py FILE.onnx")
    main(sys.argv[1])

"""Weights exchange between PyTorch and MnistCnn.Core, in both directions, through safetensors files.

  write-reference OUT   writes PyTorch's ConvNet weights after torch.manual_seed(7) to OUT; the C# tests
                        load it with ModelWeights.Load (PyTorch -> MnistCnn.Core).
  check-export DIR      loads DIR/convnet.safetensors, written by the C# tests with ModelWeights.Save, into
                        PyTorch's ConvNet (strict), runs DIR/batch.safetensors' images through it and
                        compares with the logits MnistCnn.Core computed (MnistCnn.Core -> PyTorch).
                        Exits 1 on a mismatch.
"""
import sys

import torch

from convnet import ConvNet, configure_kernels
from safetensors_io import read_safetensors, write_safetensors

TOLERANCE = 1e-5


def write_reference(out):
    torch.manual_seed(7)
    model = ConvNet()
    write_safetensors(out, {k: v.detach() for k, v in model.state_dict().items()},
                      {"source": "torch.manual_seed(7); ConvNet()", "torch": torch.__version__,
                       "command": "./build.sh peer -- tests/peer/interop.py write-reference " + out})
    print(f"wrote {out}")


def check_export(folder):
    weights, _ = read_safetensors(f"{folder}/convnet.safetensors")
    batch, _ = read_safetensors(f"{folder}/batch.safetensors")
    model = ConvNet()
    model.load_state_dict(weights, strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(batch["images"])
    # Relative to the largest logit: after a training step the logits reach about 10-20, where float32
    # rounding alone differs by a few 1e-5 between two correct implementations.
    difference = ((logits - batch["logits"]).abs().max() / batch["logits"].abs().max()).item()
    print(f"PyTorch {torch.__version__} loaded MnistCnn.Core's weights ({len(weights)} tensors); "
          f"max |logits difference| / max |logit| over {batch['images'].shape[0]} images: {difference:.2e} "
          f"(tolerance {TOLERANCE})")
    return 0 if difference <= TOLERANCE else 1


def main(argv):
    configure_kernels("native")
    torch.set_num_threads(1)
    if len(argv) == 3 and argv[1] == "write-reference":
        write_reference(argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "check-export":
        return check_export(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

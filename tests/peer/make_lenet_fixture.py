"""Writes the PyTorch reference fixture for the C# LeNet (the "best" preset's network).

Contents (float32 unless noted; batch = images [32,1,28,28] uniform in [0,1) + labels int64 in 0..9):
  init.<param>     LeNet's weights right after torch.manual_seed(1234); LeNet()
  batch0.images, batch0.labels (I64)
  batch0.logits    [32,10] logits of the batch under the initial weights
  batch0.loss      [] CrossEntropyLoss (mean) of those logits
  grad0.<param>    gradients of that loss
  step1.<param>    weights after one Adam(lr=0.001) step on the batch

Same format, kernels and conventions as make_fixture.py (the case study's fixture).
Run: ./build.sh peer -- tests/peer/make_lenet_fixture.py
"""
import argparse
import os
import platform
import sys

import torch
from torch import nn

from convnet import configure_kernels
from lenet import LeNet
from safetensors_io import read_safetensors, write_safetensors

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "MnistCnn.Core.Tests", "Fixtures", "pytorch", "lenet-adam.safetensors")
COMMAND = "./build.sh peer -- tests/peer/make_lenet_fixture.py"
MODEL_SEED = 1234
DATA_SEED = 5678
BATCH_SIZE = 32
LEARNING_RATE = 0.001


def snapshot(prefix, model):
    return {f"{prefix}.{name}": p.detach().clone() for name, p in model.named_parameters()}


def build_fixture():
    torch.manual_seed(MODEL_SEED)
    model = LeNet()
    tensors = snapshot("init", model)

    generator = torch.Generator().manual_seed(DATA_SEED)
    images = torch.rand(BATCH_SIZE, 1, 28, 28, generator=generator, dtype=torch.float32)
    labels = torch.randint(0, 10, (BATCH_SIZE,), generator=generator, dtype=torch.int64)
    tensors["batch0.images"], tensors["batch0.labels"] = images, labels

    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    model.train()
    optimizer.zero_grad()
    logits = model(images)
    loss = nn.CrossEntropyLoss()(logits, labels)
    loss.backward()
    tensors["batch0.logits"] = logits.detach().clone()
    tensors["batch0.loss"] = loss.detach().clone()
    tensors.update({f"grad0.{name}": p.grad.detach().clone() for name, p in model.named_parameters()})
    optimizer.step()
    tensors.update(snapshot("step1", model))
    return tensors


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=DEFAULT_OUT, help="fixture path (default: the committed fixture)")
    args = p.parse_args()

    torch.set_num_threads(1)
    configure_kernels("native")
    torch.use_deterministic_algorithms(True)

    tensors = build_fixture()
    metadata = {
        "generator": COMMAND,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "model_seed": f"torch.manual_seed({MODEL_SEED}) before LeNet()",
        "data_seed": f"torch.Generator().manual_seed({DATA_SEED}); rand images, then randint labels",
        "optimizer": f"torch.optim.Adam(lr={LEARNING_RATE}), other settings PyTorch defaults",
        "loss": "torch.nn.CrossEntropyLoss() (mean over the batch)",
        "kernels": "CPU, 1 thread, oneDNN off, deterministic algorithms",
    }
    write_safetensors(args.out, tensors, metadata)

    written, written_metadata = read_safetensors(args.out)
    assert written_metadata == metadata and written.keys() == tensors.keys()
    for name, tensor in tensors.items():
        assert written[name].dtype == tensor.dtype and torch.equal(written[name], tensor), name
    size = os.path.getsize(args.out)
    print(f"wrote {os.path.relpath(args.out, REPO)}: {len(tensors)} tensors, {size:,} bytes; "
          f"batch0.loss {tensors['batch0.loss'].item():.6f}")


if __name__ == "__main__":
    sys.exit(main())

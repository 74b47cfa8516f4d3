"""Writes the PyTorch reference fixture MnistCnn.Core's tests compare the C# ConvNet and training step with.

Contents (all float32 unless noted; batch i = images [64,1,28,28] uniform in [0,1) + labels int64 in 0..9):
  init.<param>        the ConvNet's weights right after torch.manual_seed(1234); ConvNet()
  batch{0,1,2}.images, batch{0,1,2}.labels (I64)
  batch0.logits       [64,10] logits of batch 0 under the initial weights
  batch0.loss         [] CrossEntropyLoss (mean) of those logits
  grad0.<param>       gradients of that loss
  step1.<param>       weights after one Adam(lr=0.01) step on batch 0
  step3.<param>       weights after three Adam steps over batches 0, 1, 2 (the first being step1)
  step3.losses        [3] the loss of each of those steps, computed before its update

With --model lenet it writes the LeNet fixture instead (lenet-adam.safetensors): init.<param>, batch0.* of
one batch of 32, grad0.<param> and step1.<param> after one Adam(lr=0.001) step; no step3. --model speedrun
writes the same for the speedrun network (speedrun-adam.safetensors).

Format: safetensors (8-byte little-endian header length, UTF-8 JSON header, raw little-endian data),
written here without the safetensors package so only torch is needed.

Run: ./build.sh peer -- tests/peer/make_fixture.py [--model lenet|speedrun]
"""
import argparse
import json
import os
import platform
import struct
import sys

import numpy as np
import torch
from torch import nn

from convnet import ConvNet, configure_kernels
from lenet import LeNet
from speedrun import SpeedrunNet
from safetensors_io import read_safetensors, write_safetensors

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "tests", "MnistCnn.Core.Tests", "Fixtures", "pytorch")
COMMAND = "./build.sh peer -- tests/peer/make_fixture.py"
MODEL_SEED = 1234
DATA_SEED = 5678

# Per model: class, output file, batches, batch size, Adam's learning rate.
MODELS = {
    "convnet": (ConvNet, "convnet-adam.safetensors", 3, 64, 0.01),
    "lenet": (LeNet, "lenet-adam.safetensors", 1, 32, 0.001),
    "speedrun": (SpeedrunNet, "speedrun-adam.safetensors", 1, 32, 0.001),
}
def snapshot(prefix, model):
    return {f"{prefix}.{name}": p.detach().clone() for name, p in model.named_parameters()}


def build_fixture(model_class, batch_count, batch_size, learning_rate):
    torch.manual_seed(MODEL_SEED)
    model = model_class()
    tensors = snapshot("init", model)

    # A generator of its own keeps the data independent of the model's initialisation.
    generator = torch.Generator().manual_seed(DATA_SEED)
    batches = []
    for i in range(batch_count):
        images = torch.rand(batch_size, 1, 28, 28, generator=generator, dtype=torch.float32)
        labels = torch.randint(0, 10, (batch_size,), generator=generator, dtype=torch.int64)
        tensors[f"batch{i}.images"], tensors[f"batch{i}.labels"] = images, labels
        batches.append((images, labels))

    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    model.train()
    losses = []
    for i, (images, labels) in enumerate(batches):
        optimizer.zero_grad()
        logits = model(images)
        loss = loss_fn(logits, labels)
        loss.backward()
        if i == 0:
            tensors["batch0.logits"] = logits.detach().clone()
            tensors["batch0.loss"] = loss.detach().clone()
            tensors.update({f"grad0.{name}": p.grad.detach().clone() for name, p in model.named_parameters()})
        optimizer.step()
        losses.append(loss.item())
        if i == 0:
            tensors.update(snapshot("step1", model))
    if batch_count == 3:
        tensors.update(snapshot("step3", model))
        tensors["step3.losses"] = torch.tensor(losses, dtype=torch.float32)
    return tensors


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(MODELS), default="convnet", help="the network (default: convnet)")
    p.add_argument("--out", help="fixture path (default: the committed fixture of --model)")
    args = p.parse_args()
    model_class, file_name, batch_count, batch_size, learning_rate = MODELS[args.model]
    out = args.out or os.path.join(FIXTURES, file_name)

    # One thread and PyTorch's own kernels make the file reproducible bit for bit (and correct: see
    # convnet.configure_kernels).
    torch.set_num_threads(1)
    configure_kernels("native")
    torch.use_deterministic_algorithms(True)

    tensors = build_fixture(model_class, batch_count, batch_size, learning_rate)
    metadata = {
        "generator": COMMAND if args.model == "convnet" else f"{COMMAND} --model {args.model}",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "model_seed": f"torch.manual_seed({MODEL_SEED}) before {model_class.__name__}()",
        "data_seed": f"torch.Generator().manual_seed({DATA_SEED}); per batch: rand images, then randint labels",
        "optimizer": f"torch.optim.Adam(lr={learning_rate}), other settings PyTorch defaults "
                     "(betas 0.9/0.999, eps 1e-8, weight_decay 0, amsgrad off)",
        "loss": "torch.nn.CrossEntropyLoss() (mean over the batch)",
        "kernels": "CPU, 1 thread, oneDNN off, deterministic algorithms",
        "order": "per step: zero_grad, forward, loss, backward, step; stepN.losses are taken before each update",
    }
    write_safetensors(out, tensors, metadata)

    written, written_metadata = read_safetensors(out)
    assert written_metadata == metadata and written.keys() == tensors.keys()
    for name, tensor in tensors.items():
        assert written[name].dtype == tensor.dtype and torch.equal(written[name], tensor), name
    size = os.path.getsize(out)
    print(f"wrote {os.path.relpath(out, REPO)}: {len(tensors)} tensors, {size:,} bytes; "
          f"batch0.loss {tensors['batch0.loss'].item():.6f}, step losses {losses_of(tensors)}")


def losses_of(tensors):
    return tensors["step3.losses"].tolist() if "step3.losses" in tensors else [tensors["batch0.loss"].item()]


if __name__ == "__main__":
    sys.exit(main())

"""The PyTorch MNIST case study with its three bugs fixed: the reference MnistCnn.Core is compared with.

Fixes: forward returns the logits; validation covers the whole test set; validation runs once per epoch,
after training over all batches. Everything else is as the case study has it: batch 64, no shuffle,
Adam(lr=0.01), CrossEntropyLoss, 5 epochs, pixels x/255 without normalisation.

Modes:
  faithful   torchvision's datasets.MNIST + ToTensor + DataLoader, as the case study loads data
  preloaded  each split decoded once into one float tensor (x/255) and sliced per batch: the
             floor PyTorch reaches for this network when input handling costs nothing

Run: ./build.sh peer -- tests/peer/casestudy.py --data data/mnist --threads 2 --json out.json
"""
import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from convnet import KERNELS, ConvNet, configure_kernels

BATCH_SIZE = 64
LEARNING_RATE = 0.01
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def seconds_since_process_start():
    """Wall time since the kernel started this process, so interpreter start and imports count."""
    try:
        with open("/proc/self/stat") as f:
            # Field 22 (starttime, in clock ticks since boot) follows the parenthesised command name.
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - SCRIPT_START


SCRIPT_START = time.perf_counter()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder holding the four raw MNIST IDX files")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed before the model is built (default 0)")
    p.add_argument("--epochs", type=int, default=5, help="training epochs (default 5)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own choice)")
    p.add_argument("--mode", choices=("faithful", "preloaded"), default="faithful")
    p.add_argument("--kernels", choices=KERNELS, default="native",
                   help="convolution kernels (default native: oneDNN's NCHW gradients are wrong on this "
                        "project's machines; see convnet.py)")
    p.add_argument("--json", dest="json_out", default=None, help="write settings and per-epoch results here")
    return p.parse_args()


def mnist_root(data_dir, tmp):
    """torchvision's MNIST reads <root>/MNIST/raw/<file>; link the files into that layout, no copies."""
    raw = os.path.join(tmp, "MNIST", "raw")
    os.makedirs(raw)
    for name in RAW_FILES:
        source = os.path.abspath(os.path.join(data_dir, name))
        if not os.path.isfile(source):
            sys.exit(f"casestudy.py: {source} is missing (the raw, uncompressed IDX files are expected)")
        os.symlink(source, os.path.join(raw, name))
    return tmp


def faithful_batches(train_set, test_set):
    to_loader = lambda ds: DataLoader(ds, batch_size=BATCH_SIZE, shuffle=False)
    return to_loader(train_set), to_loader(test_set)


class SlicedBatches:
    """One float tensor per split, cut into consecutive batches of 64 (the last one shorter)."""

    def __init__(self, dataset):
        self.images = dataset.data.unsqueeze(1).to(torch.float32).div(255)
        self.labels = dataset.targets

    def __iter__(self):
        for begin in range(0, len(self.labels), BATCH_SIZE):
            yield self.images[begin:begin + BATCH_SIZE], self.labels[begin:begin + BATCH_SIZE]

    def __len__(self):
        return (len(self.labels) + BATCH_SIZE - 1) // BATCH_SIZE


def train_one_epoch(model, batches, memory_format, loss_fn, optimizer, on_first_step):
    model.train()
    total_loss, steps = 0.0, 0
    for images, labels in batches:
        images = images.contiguous(memory_format=memory_format)
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
        steps += 1
        if on_first_step is not None:
            on_first_step()
            on_first_step = None
    return total_loss / steps


def validate(model, batches, memory_format):
    """Accuracy in percent over every test image (the case study stopped early)."""
    model.eval()
    correct, seen = 0, 0
    with torch.no_grad():
        for images, labels in batches:
            images = images.contiguous(memory_format=memory_format)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    model.train()
    return 100.0 * correct / seen


def main():
    args = parse_args()
    memory_format = configure_kernels(args.kernels)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="mnist-peer-") as tmp:
        load_start = time.perf_counter()
        root = mnist_root(args.data, tmp)
        to_tensor = transforms.ToTensor()
        train_set = datasets.MNIST(root, train=True, download=False, transform=to_tensor)
        test_set = datasets.MNIST(root, train=False, download=False, transform=to_tensor)
        if args.mode == "faithful":
            train_batches, test_batches = faithful_batches(train_set, test_set)
        else:
            train_batches, test_batches = SlicedBatches(train_set), SlicedBatches(test_set)
        load_seconds = time.perf_counter() - load_start

        torch.manual_seed(args.seed)
        model = ConvNet().to(memory_format=memory_format)
        loss_fn = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

        first_step = {}
        record_first_step = lambda: first_step.setdefault("seconds", seconds_since_process_start())
        results = {"train_seconds": [], "validate_seconds": [], "train_loss": [], "test_accuracy": []}
        for epoch in range(1, args.epochs + 1):
            start = time.perf_counter()
            loss = train_one_epoch(model, train_batches, memory_format, loss_fn, optimizer,
                                   record_first_step if epoch == 1 else None)
            train_seconds = time.perf_counter() - start
            start = time.perf_counter()
            accuracy = validate(model, test_batches, memory_format)
            validate_seconds = time.perf_counter() - start
            for key, value in zip(results, (train_seconds, validate_seconds, loss, accuracy)):
                results[key].append(value)
            print(f"Epoch: {epoch} Loss: {loss:.6f} Accuracy: {accuracy:.2f} "
                  f"(train {train_seconds:.2f} s, validate {validate_seconds:.2f} s)", flush=True)

    # ru_maxrss is in KiB on Linux.
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak RSS: {peak_rss_mib:.0f} MiB; first training step done {first_step.get('seconds', float('nan')):.2f} s "
          f"after process start; {torch.get_num_threads()} threads", flush=True)
    if args.json_out:
        report = {
            "mode": args.mode,
            "seed": args.seed,
            "epochs": args.epochs,
            "threads": torch.get_num_threads(),
            "kernels": args.kernels,
            "batch_size": BATCH_SIZE,
            "learning_rate": LEARNING_RATE,
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "python": platform.python_version(),
            "load_seconds": load_seconds,
            "seconds_to_first_step": first_step.get("seconds"),
            **results,
            "peak_rss_mib": peak_rss_mib,
            "notes": {
                "seconds_to_first_step": "process start (kernel) to the end of the first optimizer step",
                "train_loss": "mean of the per-batch CrossEntropyLoss values of the epoch",
                "test_accuracy": "percent of the 10,000 test images classified correctly after the epoch",
            },
        }
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()

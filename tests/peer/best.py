"""The "best" preset's recipe in PyTorch: the reference MnistCnn.Core's `--preset best` is compared with.

LeNet (lenet.py), batches of 64 shuffled every epoch, each training image shifted up to 2 px per axis, rotated
up to 10 degrees about its centre and scaled by 0.9-1.1 (drawn uniformly per image; affine_grid + grid_sample,
bilinear, zeros padding, align_corners False, as the library's DigitAugmentation), Adam with betas (0.9, 0.999)
under a one-cycle learning rate peaking at 0.002 and stepped after every batch (OneCycleLR with its defaults,
cycle_momentum False, as TrainingRecipe.Best), CrossEntropyLoss with label smoothing 0.1, pixels x/255, 11 epochs,
validation on the whole test set after every epoch. The same recipe, not the same random draws: the library
draws its shuffles and transforms from its own seeded generator, so accuracies agree within seed noise.

Both splits are read from the raw IDX files into one tensor each, on the chosen device, and augmented there:
no DataLoader, so on a GPU input handling costs next to nothing.

Run: ./build.sh peer -- tests/peer/best.py --data data/fashion-mnist --threads 2 --json out.json
     python3 best.py --data DIR --device cuda      (on a machine with PyTorch and a GPU)
"""
import argparse
import json
import math
import os
import platform
import struct
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from convnet import KERNELS, configure_kernels
from lenet import LeNet

BATCH_SIZE = 64
PEAK_LEARNING_RATE = 0.002
BETAS = (0.9, 0.999)
LABEL_SMOOTHING = 0.1
EPOCHS = 11
MAX_SHIFT = 2.0
MAX_ROTATION_DEGREES = 10.0
MIN_SCALE, MAX_SCALE = 0.9, 1.1


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder holding the four raw IDX files (MNIST's names)")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed before the model is built (default 0)")
    p.add_argument("--epochs", type=int, default=EPOCHS, help=f"training epochs (default {EPOCHS})")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own choice)")
    p.add_argument("--kernels", choices=KERNELS, default="native",
                   help="CPU convolution kernels (default native; see convnet.py)")
    p.add_argument("--json", dest="json_out", default=None, help="write settings and per-epoch results here")
    return p.parse_args()


def read_idx(path, expected_magic):
    """An IDX file as a uint8 tensor: images [N, 28, 28] (magic 2051) or labels [N] (magic 2049)."""
    if not os.path.isfile(path):
        sys.exit(f"best.py: {path} is missing (the raw, uncompressed IDX files are expected)")
    with open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic != expected_magic:
        sys.exit(f"best.py: {path} has magic {magic}, expected {expected_magic}")
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).view(count, rows, cols)
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).view(count)


def load_split(folder, prefix, device):
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), 2051)
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), 2049)
    return images.unsqueeze(1).to(device=device, dtype=torch.float32).div_(255), labels.to(device=device, dtype=torch.int64)


def augment(images, generator):
    """Each image shifted, rotated about its centre and scaled by its own uniform draws (square images).

    Forward, in pixels centred on the image: out = scale * R(angle) * in + shift; affine_grid wants the inverse,
    in = R(-angle) / scale * (out - shift), in coordinates normalised by half the image size.
    """
    n, _, height, width = images.shape
    draws = torch.rand((n, 4), generator=generator, device=images.device, dtype=torch.float64)
    shift_x = MAX_SHIFT * (2 * draws[:, 0] - 1)
    shift_y = MAX_SHIFT * (2 * draws[:, 1] - 1)
    radians = math.radians(MAX_ROTATION_DEGREES) * (2 * draws[:, 2] - 1)
    scale = MIN_SCALE + (MAX_SCALE - MIN_SCALE) * draws[:, 3]
    cos, sin = torch.cos(radians) / scale, torch.sin(radians) / scale
    half = width / 2.0
    theta = torch.stack([
        torch.stack([cos, sin, -(cos * shift_x + sin * shift_y) / half], dim=1),
        torch.stack([-sin, cos, -(-sin * shift_x + cos * shift_y) / half], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta, [n, 1, height, width], align_corners=False).to(images.dtype)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def validate(model, images, labels, memory_format):
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=images.device)
    with torch.no_grad():
        for begin in range(0, len(labels), BATCH_SIZE):
            batch = images[begin:begin + BATCH_SIZE].contiguous(memory_format=memory_format)
            correct += (model(batch).argmax(dim=1) == labels[begin:begin + BATCH_SIZE]).sum()
    model.train()
    return 100.0 * correct.item() / len(labels)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main():
    args = parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("best.py: --device cuda, but torch sees no CUDA device")
    memory_format = configure_kernels(args.kernels) if device.type == "cpu" else torch.contiguous_format
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    load_start = time.perf_counter()
    train_images, train_labels = load_split(args.data, "train", device)
    test_images, test_labels = load_split(args.data, "t10k", device)
    synchronize(device)
    load_seconds = time.perf_counter() - load_start

    torch.manual_seed(args.seed)
    model = LeNet().to(device=device, memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=PEAK_LEARNING_RATE, betas=BETAS)
    steps_per_epoch = (len(train_labels) + BATCH_SIZE - 1) // BATCH_SIZE
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=PEAK_LEARNING_RATE,
                                                    total_steps=args.epochs * steps_per_epoch, cycle_momentum=False)
    shuffle_generator = torch.Generator().manual_seed(args.seed)
    augment_generator = torch.Generator(device=device).manual_seed(args.seed + 1)

    results = {"train_seconds": [], "validate_seconds": [], "train_loss": [], "test_accuracy": []}
    run_start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(train_labels), generator=shuffle_generator).to(device)
        total_loss = torch.zeros((), dtype=torch.float64, device=device)
        steps = 0
        for begin in range(0, len(order), BATCH_SIZE):
            index = order[begin:begin + BATCH_SIZE]
            images = augment(train_images[index], augment_generator).contiguous(memory_format=memory_format)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(images), train_labels[index], label_smoothing=LABEL_SMOOTHING)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.detach()
            steps += 1
        loss_value = total_loss.item() / steps
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        accuracy = validate(model, test_images, test_labels, memory_format)
        validate_seconds = time.perf_counter() - start
        for key, value in zip(results, (train_seconds, validate_seconds, loss_value, accuracy)):
            results[key].append(value)
        print(f"Epoch: {epoch} Loss: {loss_value:.6f} Accuracy: {accuracy:.2f} "
              f"(train {train_seconds:.2f} s, validate {validate_seconds:.2f} s)", flush=True)
    total_seconds = time.perf_counter() - run_start

    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    print(f"Final accuracy: {results['test_accuracy'][-1]:.2f}% on {device_name}; training time "
          f"{total_seconds:.1f} s (validation included); {torch.get_num_threads()} threads; torch {torch.__version__}",
          flush=True)
    if args.json_out:
        report = {
            "recipe": "best preset: LeNet, batch 64 shuffled, random affine (2 px, 10 deg, 0.9-1.1), Adam "
                      f"betas {BETAS}, one-cycle peak {PEAK_LEARNING_RATE} per batch, label smoothing {LABEL_SMOOTHING}",
            "data": os.path.abspath(args.data),
            "seed": args.seed,
            "epochs": args.epochs,
            "device": str(device),
            "device_name": device_name,
            "threads": torch.get_num_threads(),
            "kernels": args.kernels if device.type == "cpu" else None,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "load_seconds": load_seconds,
            "total_seconds": total_seconds,
            **results,
        }
        tmp = args.json_out + ".partial"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.json_out)


if __name__ == "__main__":
    main()

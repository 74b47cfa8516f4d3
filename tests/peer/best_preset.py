"""Times PyTorch training the best preset's recipe, for ./build.sh bench (beside MnistCnn.Core's run).

The recipe of `./build.sh train --preset best`: LeNet (lenet.py), batches of 64 in a shuffled order, every training
image moved by a random affine transform (shifts up to 2 px, rotations up to 10 degrees, scales 0.9-1.1: one
affine_grid + grid_sample per batch, bilinear, zero padding), Adam at 0.001 annealed per epoch by
CosineAnnealingLR(T_max = epochs), validation over the 10,000 test images after every epoch. The data is preloaded
as tensors (the fastest way to feed torch here). Prints one line per epoch and writes the figures as JSON:

  ./build.sh peer -- tests/peer/best_preset.py --data data/mnist --epochs 2 --threads 2 --json OUT
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

from lenet import LeNet

BATCH_SIZE = 64
LEARNING_RATE = 0.001


def idx(path):
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def augment(images, generator):
    n = images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(10)
    scale = 0.9 + torch.rand(n, generator=generator) * 0.2
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * 2 / 14  # 2 px in affine_grid's [-1, 1] coordinates
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--json", dest="json_out", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_x = idx(f"{args.data}/train-images-idx3-ubyte").unsqueeze(1).float() / 255
    train_y = idx(f"{args.data}/train-labels-idx1-ubyte").long()
    test_x = idx(f"{args.data}/t10k-images-idx3-ubyte").unsqueeze(1).float() / 255
    test_y = idx(f"{args.data}/t10k-labels-idx1-ubyte").long()

    model = LeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    generator = torch.Generator().manual_seed(args.seed)
    results = {"train_seconds": [], "validate_seconds": [], "train_loss": [], "test_accuracy": []}
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(train_x.shape[0], generator=generator)
        total, batches = 0.0, 0
        model.train()
        for first in range(0, train_x.shape[0], BATCH_SIZE):
            chosen = order[first:first + BATCH_SIZE]
            images = augment(train_x[chosen], generator)
            loss = F.cross_entropy(model(images), train_y[chosen])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        schedule.step()
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        model.eval()
        with torch.no_grad():
            correct = sum((model(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum().item() for i in range(0, 10000, 1000))
        validate_seconds = time.perf_counter() - start
        accuracy = correct / 100
        for key, value in zip(results, (train_seconds, validate_seconds, total / batches, accuracy)):
            results[key].append(value)
        print(f"Epoch: {epoch} Loss: {total / batches:.6f} Accuracy: {accuracy:.2f} "
              f"(train {train_seconds:.2f} s, validate {validate_seconds:.2f} s)", flush=True)

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"mode": "pytorch-best-preset", "epochs": args.epochs, "threads": torch.get_num_threads(),
                       "torch": torch.__version__, **results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()

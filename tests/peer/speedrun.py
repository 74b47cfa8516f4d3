"""The speedrun recipe in PyTorch, the peer `./build.sh speedrun` times beside MnistCnn.Core.

The network (SpeedrunNet, the state_dict keys of the C# SpeedrunNet): conv 1->24 (5x5), max-pool 2, ReLU,
conv 24->32 (3x3), max-pool 2, ReLU, flatten (800), linear 800->256, ReLU, linear 256->10 (about 1.24M
multiply-adds an image). The recipe: 1 epoch of shuffled batches of 64 (the last one partial), Adam with betas
(0.7, 0.9), a one-cycle learning rate peaking at 0.005 (PyTorch's OneCycleLR, momentum not cycled), pixels x/255,
the whole data set resident in memory. Test accuracy is measured once, after training, on all 10,000 test images.

Per seed: torch.manual_seed(seed) before the model is built (its initial weights equal the C# SpeedrunNet(seed)'s),
then the shuffles from a generator seeded with the seed. Training time excludes the test pass.

Run: ./build.sh peer -- tests/peer/speedrun.py --data data/mnist --threads 2 --seeds 3 [--json out.json]
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from convnet import KERNELS, configure_kernels

EPOCHS = 1
BATCH_SIZE = 64
MAX_LEARNING_RATE = 0.005
BETAS = (0.7, 0.9)


class SpeedrunNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 24, kernel_size=5)
        self.conv2 = nn.Conv2d(24, 32, kernel_size=3)
        # 32 maps of 5 x 5: 28 -> 24 (conv) -> 12 (pool) -> 10 (conv) -> 5 (pool).
        self.fc1 = nn.Linear(800, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def read_idx(path, header):
    with open(path, "rb") as f:
        data = f.read()
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8)


def load(folder, device):
    splits = {}
    for name, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), 16).view(-1, 1, 28, 28)
        labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), 8).long()
        splits[name] = ((images.float() / 255).to(device), labels.to(device))
    return splits


def train_seed(seed, data, epochs, batch_size, max_lr, memory_format, device):
    torch.manual_seed(seed)
    model = SpeedrunNet().to(device=device, memory_format=memory_format)
    images, labels = data["train"]
    images = images.contiguous(memory_format=memory_format)
    count = images.shape[0]
    steps_per_epoch = (count + batch_size - 1) // batch_size
    optimizer = torch.optim.Adam(model.parameters(), lr=max_lr, betas=BETAS)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, total_steps=epochs * steps_per_epoch, cycle_momentum=False)
    generator = torch.Generator().manual_seed(seed)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(count, generator=generator).to(device)
        for first in range(0, count, batch_size):
            index = order[first:first + batch_size]
            loss = F.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    model.eval()
    test_images, test_labels = data["test"]
    correct = 0
    with torch.no_grad():
        for first in range(0, test_images.shape[0], 1000):
            batch = test_images[first:first + 1000].contiguous(memory_format=memory_format)
            correct += (model(batch).argmax(1) == test_labels[first:first + 1000]).sum().item()
    return 100.0 * correct / test_images.shape[0], seconds


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder holding the four raw MNIST IDX files")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    p.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--kernels", choices=KERNELS, default="onednn-nhwc",
                   help="convolution kernels (default onednn-nhwc: PyTorch's fast kernel that is correct here)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    p.add_argument("--lr", type=float, default=MAX_LEARNING_RATE, help="the one-cycle peak")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    memory_format = configure_kernels(args.kernels)
    device = torch.device(args.device)
    data = load(args.data, device)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, kernels {args.kernels}, device {device}; "
          f"{args.epochs} epochs, batch {args.batch_size}, one-cycle peak {args.lr}", flush=True)
    seeds = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        accuracy, seconds = train_seed(seed, data, args.epochs, args.batch_size, args.lr, memory_format, device)
        seeds.append({"seed": seed, "accuracy": accuracy, "training_seconds": seconds})
        print(f"pytorch seed {seed}: {accuracy:.2f}% in {seconds:.2f} s", flush=True)
    accuracies = [s["accuracy"] for s in seeds]
    times = [s["training_seconds"] for s in seeds]
    summary = {
        "torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(),
        "kernels": args.kernels, "device": str(device), "epochs": args.epochs, "batch_size": args.batch_size,
        "max_learning_rate": args.lr, "seeds": seeds, "mean_accuracy": statistics.mean(accuracies),
        "min_accuracy": min(accuracies), "median_training_seconds": statistics.median(times),
    }
    print(f"pytorch mean {summary['mean_accuracy']:.3f}% (lowest {summary['min_accuracy']:.2f}%), "
          f"median training time {summary['median_training_seconds']:.2f} s over {len(seeds)} seeds", flush=True)
    if args.json:
        temporary = args.json + ".tmp"
        with open(temporary, "w") as f:
            json.dump(summary, f, indent=2)
        os.replace(temporary, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

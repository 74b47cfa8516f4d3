"""Times PyTorch's inference of the case-study network or LeNet (by the file's tensors), for ./build.sh bench inference.

Loads the weights from a safetensors file (the same file the C# side uses), then, under no_grad:
  single  model(x) for one [1, 1, 28, 28] test image at a time, 1 thread: median latency over the images
  batch   model(x) over the 10,000 test images in batches, N threads: images per second (median of runs)
Writes the figures as JSON:

  ./build.sh peer -- tests/peer/inference_bench.py --model M --data data/mnist --json OUT [--threads 2]
"""
import argparse
import json
import statistics
import struct
import time

import torch

from convnet import ConvNet, configure_kernels
from lenet import LeNet
from safetensors_io import load_state_dict


def idx(path):
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(f">{dims}i", data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--singles", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    # PyTorch's default kernels (oneDNN on) are what model(x) runs for a user; the forward pass is correct
    # with them (only conv input gradients were found wrong, see README.md).
    configure_kernels("onednn")
    state = load_state_dict(args.model)
    model = LeNet() if "fc1.weight" in state else ConvNet()
    model.load_state_dict(state)
    model.eval()
    images = idx(f"{args.data}/t10k-images-idx3-ubyte").unsqueeze(1).float() / 255
    labels = idx(f"{args.data}/t10k-labels-idx1-ubyte").long()

    with torch.no_grad():
        torch.set_num_threads(1)
        singles = [images[i:i + 1].clone() for i in range(args.singles)]
        for x in singles[:300]:
            model(x)
        times = []
        for x in singles:
            start = time.perf_counter_ns()
            model(x)
            times.append(time.perf_counter_ns() - start)
        single_us = statistics.median(times) / 1000

        torch.set_num_threads(args.threads)
        batches = list(torch.split(images, args.batch))
        correct = sum((model(b).argmax(1) == l).sum().item() for b, l in zip(batches, torch.split(labels, args.batch)))
        rates = []
        for _ in range(args.runs):
            start = time.perf_counter()
            for b in batches:
                model(b)
            rates.append(len(images) / (time.perf_counter() - start))

    result = {
        "name": f"PyTorch {torch.__version__}",
        "single_median_us": single_us,
        "batch_images_per_second": statistics.median(rates),
        "batch_size": args.batch,
        "threads": args.threads,
        "test_correct": int(correct),
    }
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

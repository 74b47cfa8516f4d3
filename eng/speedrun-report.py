"""The speedrun's log: each seed's test accuracy, training time and wall time, the mean accuracy and the median
times, for MnistCnn.Core (the Train sample's summary.json per seed, walls.txt) and PyTorch (pytorch.json, when
there), with the run's context line. Prints the log and writes it (--log) and the figures as JSON (--json), each
under a temporary name first. Called by eng/speedrun.sh.
"""
import argparse
import json
import os
import statistics
import sys

THRESHOLD, FLOOR = 99.0, 98.8


def write(path, text):
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--folder", required=True)
    p.add_argument("--context", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--json", required=True)
    args = p.parse_args()

    walls = {}
    with open(os.path.join(args.folder, "walls.txt")) as f:
        for line in f:
            seed, start, end = line.split()
            walls[int(seed)] = float(end) - float(start)
    ours = []
    for seed in sorted(walls):
        with open(os.path.join(args.folder, f"seed-{seed}", "summary.json")) as f:
            summary = json.load(f)
        ours.append({"seed": seed, "accuracy": summary["FinalAccuracy"],
                     "training_seconds": summary["TrainingOnlySeconds"], "wall_seconds": walls[seed]})
    peer_path = os.path.join(args.folder, "pytorch.json")
    peer = None
    if os.path.exists(peer_path):
        with open(peer_path) as f:
            peer = json.load(f)

    lines = [f"Speedrun: {args.context}", "",
             "side            seed  accuracy %  training s  wall s"]
    for s in ours:
        lines.append(f"MnistCnn.Core   {s['seed']:>4}  {s['accuracy']:>10.2f}  {s['training_seconds']:>10.2f}  {s['wall_seconds']:>6.1f}")
    if peer:
        for s in peer["seeds"]:
            lines.append(f"PyTorch         {s['seed']:>4}  {s['accuracy']:>10.2f}  {s['training_seconds']:>10.2f}       -")
    accuracies = [s["accuracy"] for s in ours]
    result = {
        "context": args.context,
        "mnistcnn": {"seeds": ours, "mean_accuracy": statistics.mean(accuracies), "min_accuracy": min(accuracies),
                     "median_training_seconds": statistics.median(s["training_seconds"] for s in ours),
                     "median_wall_seconds": statistics.median(s["wall_seconds"] for s in ours)},
    }
    m = result["mnistcnn"]
    passed = m["mean_accuracy"] >= THRESHOLD and m["min_accuracy"] >= FLOOR
    lines += ["",
              f"MnistCnn.Core: mean {m['mean_accuracy']:.3f}% over {len(ours)} seeds (lowest {m['min_accuracy']:.2f}%), "
              f"median training time {m['median_training_seconds']:.2f} s, median wall time {m['median_wall_seconds']:.1f} s "
              f"({'meets' if passed else 'misses'} mean >= {THRESHOLD}% with no seed below {FLOOR}%)"]
    if peer:
        result["pytorch"] = peer
        ratio = peer["median_training_seconds"] / m["median_training_seconds"]
        result["pytorch_over_mnistcnn_training_time"] = ratio
        lines.append(f"PyTorch {peer['torch']} ({peer['threads']} threads, {peer['kernels']} kernels): mean {peer['mean_accuracy']:.3f}% "
                     f"(lowest {peer['min_accuracy']:.2f}%), median training time {peer['median_training_seconds']:.2f} s")
        lines.append(f"PyTorch's median training time / MnistCnn.Core's: {ratio:.2f}x")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    write(args.log, text)
    write(args.json, json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reads and writes state dicts as safetensors files with torch alone (no safetensors package).

The files are those MnistCnn.Core's ModelWeights.Save writes and ModelWeights.Load reads:

    from convnet import ConvNet
    from safetensors_io import load_state_dict, save_state_dict

    model = ConvNet()
    model.load_state_dict(load_state_dict("artifacts/train/convnet.safetensors"))
    save_state_dict("convnet-from-pytorch.safetensors", model.state_dict())

Run as a script, it loads a model file, evaluates it on MNIST's test split (x/255, as the C# side) and
saves it back: ./build.sh peer -- tests/peer/safetensors_io.py artifacts/train/convnet.safetensors data/mnist
"""
import json
import os
import struct
import sys

import torch

# safetensors dtype names and the torch dtypes they hold (the subset a ConvNet and its fixtures use).
DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
NAMES = {dtype: name for name, dtype in DTYPES.items()}


def read_safetensors(path):
    """Returns (tensors, metadata). Layout: 8-byte little-endian header length, a UTF-8 JSON header, then
    raw little-endian data."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack_from("<Q", raw)
    header = json.loads(raw[8:8 + length].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    body = memoryview(raw)[8 + length:]
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[entry["dtype"]])
        tensors[name] = flat.reshape(entry["shape"])
    return tensors, metadata


def load_state_dict(path):
    return read_safetensors(path)[0]


def save_state_dict(path, state):
    write_safetensors(path, state)


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        blob = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = metadata
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Spaces pad the header (the format allows them) so the data starts 8-byte aligned.
    encoded += b" " * (-len(encoded) % 8)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def _test_accuracy(model, folder):
    def idx(name):
        with open(f"{folder}/{name}", "rb") as f:
            data = f.read()
        dims = data[3]
        shape = struct.unpack(f">{dims}i", data[4:4 + 4 * dims])
        return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)

    images = idx("t10k-images-idx3-ubyte").unsqueeze(1).float() / 255
    labels = idx("t10k-labels-idx1-ubyte").long()
    with torch.no_grad():
        predicted = model(images).argmax(1)
    return 100.0 * (predicted == labels).sum().item() / len(labels)


if __name__ == "__main__":
    from convnet import ConvNet, configure_kernels

    configure_kernels("native")  # see README.md: oneDNN's NCHW conv gradients are wrong here
    model_path, data = sys.argv[1], sys.argv[2]
    model = ConvNet()
    model.load_state_dict(load_state_dict(model_path))
    print(f"PyTorch {torch.__version__}: {model_path} has test accuracy {_test_accuracy(model, data):.2f}%")
    out = model_path.rsplit(".", 1)[0] + "-pytorch.safetensors"
    save_state_dict(out, model.state_dict())
    print(f"saved again by PyTorch to {out}")

"""The safetensors layout, read and written with the standard library and numpy (no safetensors package).

8-byte little-endian header length, a JSON header mapping names to dtype, shape and byte range, then the
raw little-endian data. MnistCnn.Core's ModelWeights reads and writes the same layout.
"""
import json
import os
import struct

import numpy as np
import torch

DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        dtype, numpy_dtype = DTYPES[tensor.dtype]
        blob = tensor.detach().contiguous().numpy().astype(numpy_dtype, copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = metadata
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Pad with spaces (allowed by the format) so the data starts 8-byte aligned.
    encoded += b" " * (-len(encoded) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """Reads a safetensors file into a dict of tensors, plus its metadata."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack_from("<Q", raw)
    header = json.loads(raw[8:8 + length].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    body = raw[8 + length:]
    numpy_dtypes = {dtype: numpy_dtype for dtype, numpy_dtype in DTYPES.values()}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        array = np.frombuffer(body[begin:end], dtype=numpy_dtypes[entry["dtype"]]).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata

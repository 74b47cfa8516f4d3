"""The case study's network, shared by the peer scripts so both use one definition.

Attribute names are the state_dict keys MnistCnn.Core's C# ConvNet uses.
"""
import torch
from torch import nn


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, kernel_size=3, stride=1)
        self.conv2 = nn.Conv2d(3, 6, kernel_size=3, stride=1)
        # 6 channels x 24 x 24 after two unpadded 3x3 convolutions of a 28 x 28 image.
        self.linear1 = nn.Linear(3456, 10)

    def forward(self, x):
        x = torch.sigmoid(self.conv1(x))
        x = torch.sigmoid(self.conv2(x))
        x = torch.flatten(x, 1)
        # Fix 1 of the case study: its forward computed the logits but returned nothing.
        return self.linear1(x)


KERNELS = ("native", "onednn", "onednn-nhwc")


def configure_kernels(kernels):
    """Chooses the convolution kernels; returns the memory format models and inputs must use.

    native       PyTorch's own kernels (default): correct, about twice oneDNN's time here.
    onednn       what a default PyTorch install does (oneDNN, NCHW). Wrong on this project's machines:
                 in Debian 13's PyTorch 2.6 (oneDNN 3.7.2) conv2's input gradient is off by 9-78 % of
                 its largest value, at times NaN (AVX-512 kernels: some or all calls; with
                 ONEDNN_MAX_CPU_ISA=AVX2: all), so conv1 trains on garbage. Use it to time, not to compare.
    onednn-nhwc  oneDNN on channels-last tensors: a different kernel that agrees with float64 to 1e-5.
    """
    if kernels not in KERNELS:
        raise ValueError(f"kernels must be one of {KERNELS}, not {kernels!r}")
    torch.backends.mkldnn.enabled = kernels != "native"
    return torch.channels_last if kernels == "onednn-nhwc" else torch.contiguous_format

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


def use_onednn(enabled):
    """Chooses oneDNN or PyTorch's own kernels for the convolutions.

    The peer runs with oneDNN off by default: in Debian 13's PyTorch 2.6 (oneDNN 3.7.2) on this project's
    machines, conv2's input gradient comes out wrong for this network (off by 9-78 % of its largest value,
    at times NaN; with AVX-512 kernels on some or all calls, with ONEDNN_MAX_CPU_ISA=AVX2 on all), so
    conv1 trains on garbage. PyTorch's own kernels match a float64 computation to 1e-6.
    """
    torch.backends.mkldnn.enabled = enabled

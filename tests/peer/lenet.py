"""The LeNet-5-like network of MnistCnn.Core's "best" preset, for the peer scripts.

Layer sizes of the LeNet variant in Caffe's MNIST tutorial: conv 1->20 (5x5), ReLU, max-pool 2, conv 20->50
(5x5), ReLU, max-pool 2, flatten (800), linear 800->500, ReLU, linear 500->10. Attribute names are the
state_dict keys of the C# LeNet (conv1, conv2, fc1, fc2).
"""
import torch
import torch.nn.functional as F
from torch import nn


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, kernel_size=5, stride=1)
        self.conv2 = nn.Conv2d(20, 50, kernel_size=5, stride=1)
        # 50 maps of 4 x 4: 28 -> 24 (conv) -> 12 (pool) -> 8 (conv) -> 4 (pool).
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)

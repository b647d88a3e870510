"""The study's CNN, exactly as the seed describes it.

Conv layers with ReLU, one fully connected layer with Sigmoid, Softmax output; no dropout.
121,994 parameters. `forward` returns class probabilities (the seed's Softmax output);
`logits` returns the pre-softmax scores that the loss is computed on.
"""

import torch
from torch import nn

INPUT_SHAPE = (1, 28, 28)
NUM_CLASSES = 10


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1),  # 28x28 -> 28x28
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # -> 14x14
            nn.Conv2d(32, 64, kernel_size=3),  # -> 12x12
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # -> 6x6
            nn.Conv2d(64, 64, kernel_size=3),  # -> 4x4
            nn.ReLU(inplace=True),
            nn.Flatten(),  # -> 64 * 4 * 4 = 1024
        )
        self.classifier = nn.Sequential(
            nn.Linear(1024, 64),
            nn.Sigmoid(),
            nn.Linear(64, NUM_CLASSES),
        )
        self.softmax = nn.Softmax(dim=1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.softmax(self.logits(x))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

"""HRViT's mixed-scale convolutional feed-forward network (MixCFN)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['MixCFN']


class MixCFN(nn.Module):
    """fc1 -> {3x3 | 5x5} depthwise convs on the two channel halves -> GELU
    -> fc2 (HRViT, Sec. 3.3).

    No activation between fc1 and the convs, as in the reference.  Takes
    and returns channels-last maps (B, H, W, C).
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int = None):
        super().__init__()
        out_channels = out_channels or in_channels
        self.split = (hidden_channels // 2,
                      hidden_channels - hidden_channels // 2)
        self.fc1 = nn.Linear(in_channels, hidden_channels)
        self.dwconv3 = nn.Conv2d(self.split[0], self.split[0], 3, padding=1,
                                 groups=self.split[0])
        self.dwconv5 = nn.Conv2d(self.split[1], self.split[1], 5, padding=2,
                                 groups=self.split[1])
        self.fc2 = nn.Linear(hidden_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc1(x).permute(0, 3, 1, 2)
        x3, x5 = x.split(self.split, dim=1)
        x = torch.cat([self.dwconv3(x3), self.dwconv5(x5)], dim=1)
        return self.fc2(F.gelu(x).permute(0, 2, 3, 1))

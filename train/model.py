"""Torch twin of ``lib_skelext.completion_model.CompletionModel`` (same names, same maths) and its loss."""
from __future__ import annotations

import torch
from torch import nn

from lib_skelext.completion_model import (LOG_SIGMA_MAX, LOG_SIGMA_MIN, N_FEATURES, N_POINTS, ModelConfig)


class CompletionNet(nn.Module):
    """Residual MLP with a K-hypothesis mixture density head (see completion_model's docstring)."""

    def __init__(self, config: ModelConfig, mean_pose: torch.Tensor) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.inp = nn.Linear(N_FEATURES, h)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, h))
                                    for _ in range(config.blocks))
        self.out = nn.Linear(h, config.out_dim)
        self.register_buffer("mean_pose", mean_pose.float().reshape(N_POINTS, 2).clone())
        with torch.no_grad():
            for blk in self.blocks:
                blk[2].weight.mul_(0.3)
            self.out.weight.mul_(0.1)
            self.out.bias.zero_()
            k = config.hypotheses
            self.out.bias[k * 36: k * 54] = -0.5  # sigma ~0.6 torso at the start
            # spread the hypotheses a little so they do not start identical
            self.out.bias[: k * 36] = 0.05 * torch.randn(k * 36)

    def forward(self, feats: torch.Tensor):
        """feats (B, 58) -> means (B, K, 18, 2), log_sigma (B, K, 18), logits (B, K) (normalised units)."""
        h = torch.relu(self.inp(feats))
        for blk in self.blocks:
            h = h + blk(h)
        o = self.out(h)
        k = self.config.hypotheses
        b = o.shape[0]
        means = o[:, : k * 36].reshape(b, k, N_POINTS, 2) + self.mean_pose
        log_sigma = o[:, k * 36: k * 54].reshape(b, k, N_POINTS).clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        return means, log_sigma, o[:, k * 54:]


def mixture_loss(means, log_sigma, logits, target, mask, top_weight: float = 0.5):
    """Mixture NLL over labelled-missing points + Euclidean error of the most likely hypothesis.

    target (B, 18, 2) normalised; mask (B, 18) float, 1 where the point is a label
    the model did not see. Both terms are averaged per target point. Returns
    (loss, nll per point, top-1 mean error) as tensors.
    """
    n = mask.sum().clamp_min(1.0)
    d2 = ((means - target[:, None]) ** 2).sum(-1)  # (B, K, 18)
    inv = torch.exp(-2 * log_sigma)
    ll = (-0.5 * d2 * inv - 2 * log_sigma - 1.8378770664093453) * mask[:, None]
    logp = torch.log_softmax(logits, 1) + ll.sum(-1)
    nll = -torch.logsumexp(logp, 1).sum() / n
    top = logits.argmax(1)
    err = torch.sqrt(d2[torch.arange(len(top)), top] + 1e-9)
    top_err = (err * mask).sum() / n
    return nll + top_weight * top_err, nll.detach(), top_err.detach()

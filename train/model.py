"""Torch twin of ``lib_skelext.completion_model.CompletionModel`` (same names, same maths) and its loss."""
from __future__ import annotations

import torch
from torch import nn

from lib_skelext.completion_model import LOG_SIGMA_MAX, LOG_SIGMA_MIN, N_POINTS, ModelConfig


class CompletionNet(nn.Module):
    """Residual MLP with a K-hypothesis mixture density head and, optionally, a regression head
    (see completion_model's docstring)."""

    def __init__(self, config: ModelConfig, mean_pose: torch.Tensor) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.inp = nn.Linear(config.n_features, h)
        if config.norm == "none":
            self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, h))
                                        for _ in range(config.blocks))
        else:
            act = (lambda: nn.GELU(approximate="tanh")) if config.act == "gelu" else nn.ReLU
            self.blocks = nn.ModuleList(nn.Sequential(nn.LayerNorm(h), nn.Linear(h, h), act(), nn.Linear(h, h))
                                        for _ in range(config.blocks))
            self.norm = nn.LayerNorm(h)
            self.act = act()
        self.out = nn.Linear(h, config.out_dim)
        if config.regression_head:
            self.reg = nn.Linear(h, config.regression_dim)
        self.register_buffer("mean_pose", mean_pose.float().reshape(N_POINTS, 2).clone())
        with torch.no_grad():
            for blk in self.blocks:
                blk[-1].weight.mul_(0.3)
            self.out.weight.mul_(0.1)
            self.out.bias.zero_()
            k = config.hypotheses
            self.out.bias[k * 36: k * 54] = -0.5  # sigma ~0.6 torso at the start
            # spread the hypotheses a little so they do not start identical
            self.out.bias[: k * 36] = 0.05 * torch.randn(k * 36)
            if config.regression_head:
                self.reg.weight.mul_(0.1)
                self.reg.bias.zero_()

    def forward(self, feats: torch.Tensor):
        """feats (B, F) -> means (B, K, 18, 2), log_sigma (B, K, 18), logits (B, K), top (B, 18, 2) or None
        (normalised units); with alternative heads, top is (B, 1 + A, 18, 2), the first completion first."""
        if self.config.norm == "none":
            h = torch.relu(self.inp(feats))
            for blk in self.blocks:
                h = h + blk(h)
        else:
            h = self.inp(feats)
            for blk in self.blocks:
                h = h + blk(h)
            h = self.act(self.norm(h))
        o = self.out(h)
        k = self.config.hypotheses
        b = o.shape[0]
        means = o[:, : k * 36].reshape(b, k, N_POINTS, 2) + self.mean_pose
        log_sigma = o[:, k * 36: k * 54].reshape(b, k, N_POINTS).clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        top = None
        if self.config.regression_head:
            top = self.reg(h).reshape(b, -1, N_POINTS, 2) + self.mean_pose
            top = top[:, 0] if self.config.alternative_heads == 0 else top
        return means, log_sigma, o[:, k * 54:], top


def mixture_loss(means, log_sigma, logits, top, target, mask, top_weight: float = 0.5, reg_weight: float = 1.0,
                 torso=None, choice_weight: float = 1.0):
    """Mixture NLL over labelled-missing points + Euclidean error of the most likely hypothesis
    (+ reg_weight x the Euclidean error of the regression head's completion, when there is one).

    target (B, 18, 2) normalised; mask (B, 18) float, 1 where the point is a label
    the model did not see; torso (B,) optional torso length in normalised units: the
    regression error is then measured in torso lengths (the error users see). Every term
    is averaged per target point. With alternative heads (top (B, 1 + A, 18, 2)) the first
    completion keeps its own error term and choice_weight x the error of whichever of the
    1 + A completions is closest to each person (winner takes all) trains the alternatives
    to cover what the first one misses. Returns (loss, nll per point, top-1 mean error) as
    tensors; the top-1 error is the regression head's where there is one.
    """
    n = mask.sum().clamp_min(1.0)
    d2 = ((means - target[:, None]) ** 2).sum(-1)  # (B, K, 18)
    inv = torch.exp(-2 * log_sigma)
    ll = (-0.5 * d2 * inv - 2 * log_sigma - 1.8378770664093453) * mask[:, None]
    logp = torch.log_softmax(logits, 1) + ll.sum(-1)
    nll = -torch.logsumexp(logp, 1).sum() / n
    best = logits.argmax(1)
    err = torch.sqrt(d2[torch.arange(len(best)), best] + 1e-9)
    top_err = (err * mask).sum() / n
    loss = nll + top_weight * top_err
    if top is None:
        return loss, nll.detach(), top_err.detach()
    heads = top if top.dim() == 4 else top[:, None]
    rerr = torch.sqrt(((heads - target[:, None]) ** 2).sum(-1) + 1e-9)  # (B, H, 18)
    if torso is not None:
        rerr = rerr / torso[:, None, None]
    per_head = (rerr * mask[:, None]).sum(-1)  # (B, H) summed error of each person's targets
    reg_err = per_head[:, 0].sum() / n
    loss = loss + reg_weight * reg_err
    if heads.shape[1] > 1:
        loss = loss + choice_weight * per_head.min(1).values.sum() / n
    return loss, nll.detach(), reg_err.detach()

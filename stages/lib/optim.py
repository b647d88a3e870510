"""AdamW as one fused kernel call per step, without torch.optim's start-up cost.

A torch.optim optimizer imports torch._dynamo the first time it is used: 1.2-1.5 s on a 2-core machine, paid by
every train stage before its first step. This class calls the kernel that torch.optim.AdamW(fused=True)
calls, with the same defaults and the same state, so its updates are bit-identical
(tests/test_optim.py checks them against torch.optim.AdamW). That kernel, torch._fused_adamw_, is private:
where a PyTorch release lacks it or changes it so that the call fails, the optimizer hands its state to
torch.optim.AdamW(fused=True) and goes on with that, slower to start but the same updates.
"""

import warnings

import torch


def private_kernel():
    """The fused AdamW kernel this module calls, or None where this PyTorch has no such op. torch.optim's
    fused AdamW calls the same op, kept in step with it by PyTorch itself: it is the fallback."""
    return getattr(torch, "_fused_adamw_", None)


class AdamW:
    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2):
        self.params = [p for p in params if p.requires_grad]
        self.lr, (self.beta1, self.beta2), self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params]
        self.fallback = None if private_kernel() is not None else self._torch_optim()

    def set_lr(self, lr: float) -> None:
        """The learning rate from the next step on (the LR range test raises it at every step)."""
        self.lr = lr
        if self.fallback is not None:
            for group in self.fallback.param_groups:
                group["lr"] = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        if self.fallback is not None:
            self.fallback.step()
            return
        # Like torch.optim, a parameter without a gradient keeps its weights and its step count.
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        steps = [self.steps[i] for i in live]
        torch._foreach_add_(steps, 1)
        try:
            private_kernel()(
                [self.params[i] for i in live], [self.params[i].grad for i in live],
                [self.exp_avgs[i] for i in live], [self.exp_avg_sqs[i] for i in live], [], steps,
                lr=self.lr, beta1=self.beta1, beta2=self.beta2, weight_decay=self.weight_decay, eps=self.eps,
                amsgrad=False, maximize=False,
            )
        except (RuntimeError, TypeError) as e:  # the private op changed: the public optimizer takes over
            torch._foreach_sub_(steps, 1)  # this step did not happen
            warnings.warn(f"torch._fused_adamw_ failed ({e}); going on with torch.optim.AdamW(fused=True)",
                          stacklevel=2)
            self.fallback = self._torch_optim()
            self.fallback.step()

    def _torch_optim(self) -> torch.optim.AdamW:
        """torch.optim.AdamW(fused=True) holding this optimizer's state, so that it goes on where this one stopped."""
        optimizer = torch.optim.AdamW(self.params, lr=self.lr, betas=(self.beta1, self.beta2), eps=self.eps,
                                      weight_decay=self.weight_decay, fused=True)
        for p, exp_avg, exp_avg_sq, step in zip(self.params, self.exp_avgs, self.exp_avg_sqs, self.steps):
            optimizer.state[p] = {"step": step, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
        return optimizer

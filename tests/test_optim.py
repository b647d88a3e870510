"""stages.lib.optim.AdamW against torch.optim.AdamW(fused=True): the same updates, bit for bit."""

import subprocess
import sys

import pytest
import torch

from stages.lib import optim
from stages.lib.optim import AdamW
from stages.lib.training import build_model, loss_fn


def train_steps(model, optimizer, batches):
    for images, labels in batches:
        optimizer.zero_grad()
        loss_fn(model, images, labels, False).backward()
        optimizer.step()
    return model


@pytest.mark.parametrize("lr", [1e-5, 1e-3, 3e-2])
def test_updates_are_bit_identical_to_torch_fused_adamw(lr):
    generator = torch.Generator().manual_seed(0)
    batches = [(torch.randn(8, 1, 28, 28, generator=generator).contiguous(memory_format=torch.channels_last),
                torch.randint(0, 10, (8,), generator=generator)) for _ in range(5)]
    ours, reference = build_model(1, "cpu"), build_model(1, "cpu")
    train_steps(ours, AdamW(ours.parameters(), lr=lr), batches)
    train_steps(reference, torch.optim.AdamW(reference.parameters(), lr=lr, fused=True), batches)
    initial = build_model(1, "cpu").state_dict()
    for name, weights in ours.state_dict().items():
        assert not torch.equal(weights, initial[name]), f"{name} did not move"
        assert torch.equal(weights, reference.state_dict()[name]), f"{name} differs from torch.optim.AdamW"


def batches_of(n, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [(torch.randn(8, 1, 28, 28, generator=generator).contiguous(memory_format=torch.channels_last),
             torch.randint(0, 10, (8,), generator=generator)) for _ in range(n)]


def assert_same_weights(a, b):
    for name, weights in a.state_dict().items():
        assert torch.equal(weights, b.state_dict()[name]), name


def test_without_the_private_kernel_it_is_torch_optim_adamw(monkeypatch):
    monkeypatch.setattr(optim, "private_kernel", lambda: None)  # a PyTorch without the op, as this module sees it
    batches = batches_of(4)
    ours, reference = build_model(1, "cpu"), build_model(1, "cpu")
    optimizer = AdamW(ours.parameters(), lr=1e-3)
    assert isinstance(optimizer.fallback, torch.optim.AdamW)
    train_steps(ours, optimizer, batches)
    train_steps(reference, torch.optim.AdamW(reference.parameters(), lr=1e-3, fused=True), batches)
    assert_same_weights(ours, reference)


def test_when_the_private_kernel_fails_mid_training_torch_optim_goes_on_from_the_same_state(monkeypatch):
    batches = batches_of(6)
    ours, reference = build_model(1, "cpu"), build_model(1, "cpu")
    optimizer = AdamW(ours.parameters(), lr=1e-3)
    train_steps(ours, optimizer, batches[:3])

    def changed_kernel(*args, **kwargs):
        raise RuntimeError("_fused_adamw_() got an unexpected keyword argument 'lr'")

    monkeypatch.setattr(optim, "private_kernel", lambda: changed_kernel)
    with pytest.warns(UserWarning, match="going on with torch.optim.AdamW"):
        train_steps(ours, optimizer, batches[3:])
    assert optimizer.fallback is not None
    train_steps(reference, torch.optim.AdamW(reference.parameters(), lr=1e-3, fused=True), batches)
    assert_same_weights(ours, reference)


def test_a_parameter_without_gradient_is_left_alone():
    used, unused = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    optimizer = AdamW([used, unused], lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        (used * torch.tensor([1.0, -2.0, 3.0])).sum().backward()
        optimizer.step()
    assert torch.equal(unused.detach(), torch.ones(3))
    assert optimizer.steps[0].item() == 3 and optimizer.steps[1].item() == 0
    assert (used.detach() < 1).tolist() == [True, False, True]  # moved against the gradient's sign
    assert used.grad is not None
    optimizer.zero_grad()
    assert used.grad is None


def test_a_training_step_does_not_import_torch_dynamo():
    # torch.optim's first step imports torch._dynamo (over a second); the train stage must not pay that.
    probe = """
import sys, torch
from stages.lib import optim
from stages.lib.optim import AdamW
from stages.lib.training import build_model, loss_fn
model = build_model(1, "cpu")
optimizer = AdamW(model.parameters(), lr=1e-3)
loss_fn(model, torch.zeros(2, 1, 28, 28), torch.zeros(2, dtype=torch.long), False).backward()
optimizer.step()
print("torch._dynamo" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


@pytest.mark.parametrize("private", [True, False])
def test_a_learning_rate_changed_at_every_step_as_the_range_test_does_matches_torch_fused_adamw(monkeypatch, private):
    if not private:
        monkeypatch.setattr(optim, "private_kernel", lambda: None)  # the fallback, torch.optim, takes the new LR too
    batches, lrs = batches_of(6), [1e-5 * 4**step for step in range(6)]
    ours, reference = build_model(2, "cpu"), build_model(2, "cpu")
    optimizer = AdamW(ours.parameters(), lr=lrs[0])
    torch_optimizer = torch.optim.AdamW(reference.parameters(), lr=lrs[0], fused=True)
    for lr, batch in zip(lrs, batches):
        optimizer.set_lr(lr)
        for group in torch_optimizer.param_groups:
            group["lr"] = lr
        train_steps(ours, optimizer, [batch])
        train_steps(reference, torch_optimizer, [batch])
    assert_same_weights(ours, reference)
    constant = build_model(2, "cpu")
    train_steps(constant, AdamW(constant.parameters(), lr=lrs[0]), batches)  # a control: the LR did change
    assert any(not torch.equal(w, constant.state_dict()[n]) for n, w in ours.state_dict().items())

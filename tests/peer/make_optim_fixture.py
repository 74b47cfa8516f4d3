"""Writes the PyTorch reference values MnistCnn.Core's optimizer and scheduler tests compare with.

Contents (JSON, numbers as Python floats):
  schedulers.step          StepLR(step_size=2, gamma=0.3) on SGD(lr=0.01): the lr of epochs 0..6
  schedulers.cosine        CosineAnnealingLR(T_max=6, eta_min=0.001) on AdamW(lr=0.01): the lr of epochs 0..5
  schedulers.one_cycle_*   OneCycleLR(max_lr=0.1, total_steps=20, pct_start=0.25, div_factor=10,
                           final_div_factor=100, base_momentum=0.8, max_momentum=0.9) on Adam / SGD(momentum=0.5):
                           the lr and the momentum (Adam's beta1, SGD's momentum) of steps 0..19
  optimizers.<name>        a [4] parameter starting at START after three steps with the gradients GRADIENTS

Each scheduler is stepped the usual PyTorch way (optimizer.step(); scheduler.step()), so its values come from
PyTorch's recursive form; the C# trainer uses the closed form, equal to within the last digits.

Run: ./build.sh peer -- tests/peer/make_optim_fixture.py
"""
import json
import os
import platform

import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "MnistCnn.Core.Tests", "Fixtures", "pytorch", "optim.json")
START = [0.5, -1.25, 2.0, 0.1]
GRADIENTS = [[0.3, -0.7, 1.1, -0.05], [-0.2, 0.4, 0.9, 0.6], [0.05, 0.05, -1.5, 0.2]]


def parameter():
    return torch.nn.Parameter(torch.tensor(START, dtype=torch.float32))


def lrs(optimizer, scheduler, steps, momentum=None):
    rates, momenta = [], []
    for _ in range(steps):
        group = optimizer.param_groups[0]
        rates.append(group["lr"])
        if momentum is not None:
            momenta.append(group["betas"][0] if momentum == "betas" else group["momentum"])
        optimizer.step()
        scheduler.step()
    return rates, momenta


def schedulers():
    sched = torch.optim.lr_scheduler
    out = {}
    opt = torch.optim.SGD([parameter()], lr=0.01)
    out["step"] = lrs(opt, sched.StepLR(opt, step_size=2, gamma=0.3), 7)[0]
    opt = torch.optim.AdamW([parameter()], lr=0.01)
    out["cosine"] = lrs(opt, sched.CosineAnnealingLR(opt, T_max=6, eta_min=0.001), 6)[0]
    cycle = dict(max_lr=0.1, total_steps=20, pct_start=0.25, div_factor=10, final_div_factor=100, base_momentum=0.8, max_momentum=0.9)
    opt = torch.optim.Adam([parameter()], lr=0.01, betas=(0.7, 0.999))
    out["one_cycle_adam_lr"], out["one_cycle_adam_momentum"] = lrs(opt, sched.OneCycleLR(opt, **cycle), 20, "betas")
    opt = torch.optim.SGD([parameter()], lr=0.01, momentum=0.5)
    out["one_cycle_sgd_lr"], out["one_cycle_sgd_momentum"] = lrs(opt, sched.OneCycleLR(opt, **cycle), 20, "momentum")
    return out


def optimizers():
    makers = {
        "sgd": lambda p: torch.optim.SGD([p], lr=0.1),
        "sgd_momentum": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9),
        "sgd_nesterov_decay": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.05),
        "adam_decay": lambda p: torch.optim.Adam([p], lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        "adamw_decay": lambda p: torch.optim.AdamW([p], lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    }
    out = {}
    for name, make in makers.items():
        p = parameter()
        opt = make(p)
        for g in GRADIENTS:
            p.grad = torch.tensor(g, dtype=torch.float32)
            opt.step()
        out[name] = [float(v) for v in p.detach()]
    return out


def main():
    fixture = {
        "made_by": f"PyTorch {torch.__version__}, Python {platform.python_version()}",
        "start": START,
        "gradients": GRADIENTS,
        "schedulers": schedulers(),
        "optimizers": optimizers(),
    }
    with open(OUT + ".tmp", "w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    os.replace(OUT + ".tmp", OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

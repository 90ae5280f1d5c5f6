"""How long `autosparse.registry.prune` takes per criterion on torchvision's ResNet-18 (11.2 M prunable weights).

A user's first call: a torchvision model at 32x32 input, with 100 Fashion-MNIST images (10 per class, as 3x32x32) for the
criteria that need data. Times are wall-clock seconds on this machine's threads, one call each, after one untimed
warm-up call of Magnitude. The goals (2 cores): SynFlow with its 100 rounds within 60 s, a one-shot criterion within 20 s.
AutoS and the learned densities use the criteria shipped in the package (`irp-layers+autos` needs a scorer of yours).

    python benchmarks/prune_speed.py                                  # every criterion at 99 %
    python benchmarks/prune_speed.py --criteria synflow --synflow-rounds 10 --save masks.pt
    python benchmarks/prune_speed.py --criteria magnitude synflow --synflow-rounds 2   # short, for the tests

`--save` writes every mask to one file, so that two checkouts can be compared bit for bit (`--compare`).
"""
import argparse, time, warnings

import torch
import torch.nn.functional as F
import torchvision

from autosparse.data import load_dataset
from autosparse.masks import LayerCollapse
from autosparse.registry import CRITERIA, prune

GOALS = {'synflow': 60.0, 'irp-layers+synflow': 60.0}   # seconds, for 100 rounds; every other criterion: ONE_SHOT_GOAL
ONE_SHOT_GOAL = 20.0


def images(per_class:int)->tuple:
    "Fashion-MNIST training images as 3x32x32 floats in [0, 1], `per_class` of each class, and their labels."
    data = load_dataset('fashion-mnist').subset(per_class)
    x = F.interpolate(data.train_x.float().div(255), size=32, mode='bilinear', align_corners=False).repeat(1, 3, 1, 1)
    return x, data.train_y


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--criteria', nargs='+', default=[c for c in CRITERIA if c != 'irp-layers+autos'])
    parser.add_argument('--sparsity', type=float, default=0.99)
    parser.add_argument('--synflow-rounds', type=int, default=100, help="rounds of SynFlow and of irp-layers+synflow")
    parser.add_argument('--per-class', type=int, default=10, help='images per class for SNIP and GraSP')
    parser.add_argument('--save', help='write the masks to this file')
    parser.add_argument('--compare', help='compare the masks with those saved in this file, bit for bit')
    args = parser.parse_args()
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    data = images(args.per_class)
    weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))
    print(f"torchvision ResNet-18: {weights:,} prunable weights; {torch.get_num_threads()} threads; "
          f"sparsity {args.sparsity}")
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', LayerCollapse)
        prune('magnitude', model, args.sparsity)   # warm-up
        masks = {}
        for name in args.criteria:
            kwargs = dict(iterations=args.synflow_rounds) if 'synflow' in name else {}
            t0 = time.perf_counter()
            masks[name] = prune(name, model, args.sparsity, data, **kwargs)
            seconds = time.perf_counter() - t0
            goal = GOALS.get(name, ONE_SHOT_GOAL)
            rounds = f" ({args.synflow_rounds} rounds)" if 'synflow' in name else ''
            print(f"{name}{rounds}: {seconds:.1f} s; seconds / goal {seconds / goal:.2f}; "
                  f"{masks[name].num_kept:,} kept, {len(masks[name].collapsed_layers())} layers collapsed")
    if args.save: torch.save({n: dict(m) for n, m in masks.items()}, args.save)
    if args.compare:
        saved = torch.load(args.compare)
        for name in masks:
            if name in saved:
                same = list(saved[name]) == list(masks[name]) and all(torch.equal(saved[name][k], masks[name][k]) for k in saved[name])
                print(f"{name}: masks {'equal bit for bit' if same else 'DIFFER'} to {args.compare}")


if __name__ == '__main__':
    main()

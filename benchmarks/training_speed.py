"""Training speed ratios, measured in one run on the same model, batch size and data.

1. masked step / dense step (our loop, 90 % random mask): the cost of keeping pruned weights at zero.
2. our loop's throughput / a bare PyTorch loop over the same in-memory tensors (pre-normalized, no augmentation,
   same precision and memory layout): the cost of our batching, augmentation and bookkeeping.
3. our masked step / the official AutoSparse code's way (Synaptic-Flow style masked layers: fp32, NCHW, the mask
   multiplied into the weight in every forward), reported as a speed-up.

    python benchmarks/training_speed.py                         # ResNet-18 at full width, Fashion-MNIST batches
    python benchmarks/training_speed.py --width 0.25            # the cpu profile's ResNet-18
    python benchmarks/training_speed.py --cifar-shape           # the paper's batch shape, 128 x 3 x 32 x 32

Step times on 2 shared cores vary by several percent from run to run: each measurement is repeated (--repeats) and
the fastest kept. --cifar-shape times batches of random bytes shaped like CIFAR-10 (3 x 32 x 32), because CIFAR-10
cannot be downloaded here; it is a timing input only, never used for a result.
"""
import argparse, time
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from autosparse.config import PROFILES
from autosparse.masks import prunable_parameters
from autosparse.registry import prune
from autosparse.training import (autocast, build_profile_model, channels_last_used, load_profile_data, recipe_sgd,
                                 to_device, train)


def our_step_seconds(model, data, recipe, mask):
    "Seconds per step of autosparse.training.train: the fastest of two epochs after a warm-up epoch."
    result = train(model, data, replace(recipe, epochs=3, milestones=()), mask=mask, progress=False)
    return min(h['seconds'] / h['steps'] for h in result.history[1:])


def bare_step_seconds(model, x_all, y_all, recipe, steps):
    "Seconds per step of a plain loop over pre-normalized tensors, same precision and layout."
    device = torch.device('cpu')
    channels_last = channels_last_used(recipe, device)  # as our loop decides it
    if channels_last: model = model.to(memory_format=torch.channels_last)
    opt = recipe_sgd(model.parameters(), recipe)  # our loop's optimizer: the ratio is the rest of the loop
    xs, ys = x_all.split(recipe.batch_size), y_all.split(recipe.batch_size)
    model.train()
    times = []
    for i in range(steps + 2):
        x, y = to_device(xs[i % len(xs)], device, channels_last), ys[i % len(ys)]
        t0 = time.perf_counter()
        with autocast(recipe, device):
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        times.append(time.perf_counter() - t0)
    return sorted(times[2:])[len(times[2:]) // 2]


class MaskedConv2d(nn.Conv2d):
    "Synaptic-Flow / official AutoSparse style: the mask multiplies the weight in every forward."
    def forward(self, x): return self._conv_forward(x, self.weight * self.weight_mask, self.bias)


class MaskedLinear(nn.Linear):
    def forward(self, x): return F.linear(x, self.weight * self.weight_mask, self.bias)


def official_style(model, mask):
    "Turn conv and linear layers of `model` into masked layers carrying `mask` as a buffer."
    names = {n.rsplit('.', 1)[0] if '.' in n else '': n for n in mask}
    for name, m in model.named_modules():
        if name in names:
            m.__class__ = MaskedConv2d if isinstance(m, nn.Conv2d) else MaskedLinear
            m.register_buffer('weight_mask', mask[names[name]].float())
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--width', type=float, default=1.0, help='ResNet-18 width multiplier (1: the paper model)')
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--steps', type=int, default=12, help='timed steps per measurement')
    parser.add_argument('--repeats', type=int, default=2, help='repetitions of every measurement; the fastest is kept')
    parser.add_argument('--cifar-shape', action='store_true', help='time random 3x32x32 batches instead of Fashion-MNIST')
    args = parser.parse_args()
    profile = PROFILES['cpu']
    recipe = replace(profile.recipe, batch_size=args.batch_size)
    data = load_profile_data(profile)
    n = args.batch_size * args.steps
    data = replace(data, train_x=data.train_x[:n], train_y=data.train_y[:n], test_x=data.test_x[:100], test_y=data.test_y[:100])
    if args.cifar_shape:
        g = torch.Generator().manual_seed(0)
        data = replace(data, name='random 3x32x32 bytes', mean=(0.5,) * 3, std=(0.25,) * 3,
                       train_x=torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
                       test_x=torch.randint(0, 256, (100, 3, 32, 32), dtype=torch.uint8, generator=g))
    build = lambda: build_profile_model(replace(profile, width=args.width), data, seed=0)
    mask = prune('random', build(), 0.9, seed=0)
    print(f"ResNet-18 x{args.width} on {data.name}, batch {args.batch_size}, "
          f"{sum(p.numel() for p in prunable_parameters(build()).values()):,} prunable weights, "
          f"{torch.get_num_threads()} threads")

    x_all, y_all = next(iter(data.batches(train=True, batch_size=n, augment=False)))
    official_recipe = replace(recipe, precision='fp32', channels_last=False)
    measurements = {
        'dense': lambda: our_step_seconds(build(), data, recipe, None),
        'masked': lambda: our_step_seconds(build(), data, recipe, mask),
        'bare': lambda: bare_step_seconds(build(), x_all, y_all, recipe, args.steps),
        'official': lambda: bare_step_seconds(official_style(build(), mask), x_all, y_all, official_recipe, args.steps),
    }
    fastest = {k: float('inf') for k in measurements}
    for _ in range(args.repeats):  # interleaved, so that a slow phase of the machine hits every measurement alike
        for k, measure in measurements.items(): fastest[k] = min(fastest[k], measure())
    dense, masked, bare, official = (fastest[k] for k in measurements)

    print(f"our dense step   {dense*1e3:8.1f} ms")
    print(f"our masked step  {masked*1e3:8.1f} ms")
    print(f"bare loop step   {bare*1e3:8.1f} ms")
    print(f"official-way step {official*1e3:7.1f} ms (fp32, NCHW, mask in every forward)")
    print(f"masked / dense step time:               {masked/dense:.3f}  (goal <= 1.05)")
    print(f"our throughput / bare loop throughput:  {bare/dense:.3f}")
    print(f"speed-up of our masked step over the official way: {official/masked:.2f}x  (goal >= 2.5)")


if __name__ == '__main__':
    main()

"""Training several networks at once: networks trained per second, batched or in parallel, against one after another.

Three ways to train G networks of a profile (the seeds of one cell: same architecture, own initialization, own batches)
for the same SGD steps:

1. one after another in this process, with every thread (what `run_grid(backend='local')` does);
2. stacked into one network by `torch.func.stack_module_state` and `torch.func.vmap`: one batched forward and backward
   for all G (vmap turns each convolution into one grouped convolution), one SGD step over the stacked parameters;
3. in parallel, one process per core with one thread each (what `run_grid(backend='ray', cpus_per_run=1)` does).

Each way trains as the cpu profile's recipe does on this machine (`--precision recipe`: bfloat16 autocast and
channels-last where the processor has native bfloat16, else float32; vmap's stacked parameters stay NCHW), or in
float32 (`--precision fp32`). `--threads 1` compares (1) and (2) as a Ray task of the reproduction would run them.
It prints each way's networks trained per second, the ratios to (1), and checks that (2) computes what (1) computes:
the largest difference of the G networks' losses after one step and after all of them (random data at lr 0.05 amplifies
rounding differences from step to step, so the first is the equality check; in bfloat16 it is bfloat16's rounding).

    python benchmarks/batching.py                      # the cpu profile's ResNet-18 (x0.125) and VGG-16 on 14x14 Fashion-MNIST batches
    python benchmarks/batching.py --networks 5 --models resnet18 --threads 1   # the five seeds of a cell, in one Ray task

Step times on 2 shared cores vary by several percent from run to run; each measurement keeps the median step.
"""
import argparse, copy, multiprocessing as mp, os, time
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from autosparse.config import PROFILES, Recipe
from autosparse.models import build_model
from autosparse.training import autocast, channels_last_used, recipe_sgd, to_device

CPU = torch.device('cpu')


def batches(networks:int, steps:int, batch_size:int, shape:tuple, seed:int=0):
    "Random inputs and labels of every network for every step (a timing input; training data does not change the cost)."
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(steps, networks, batch_size, *shape, generator=g), torch.randint(0, 10, (steps, networks, batch_size), generator=g))


def one_after_another(models, xs, ys, recipe:Recipe)->tuple[float, list]:
    "Median seconds per step of all the networks, one network at a time; their losses at every step."
    channels_last = channels_last_used(recipe, CPU)
    if channels_last: models = [m.to(memory_format=torch.channels_last) for m in models]
    opts, times, losses = [recipe_sgd(m.parameters(), recipe) for m in models], [], []
    for x, y in zip(xs, ys):
        t0, step = time.perf_counter(), []
        for m, opt, xg, yg in zip(models, opts, x, y):
            with autocast(recipe, CPU): loss = F.cross_entropy(m(to_device(xg, CPU, channels_last)).float(), yg)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); step.append(loss.item())
        times.append(time.perf_counter() - t0); losses.append(step)
    return sorted(times[1:])[len(times[1:]) // 2], losses


def stacked(models, xs, ys, recipe:Recipe)->tuple[float, list]:
    "Median seconds per step of all the networks as one vmapped network; their losses at every step."
    params, buffers = stack_module_state(models)
    skeleton = copy.deepcopy(models[0]).to('meta')
    opt, times, losses = recipe_sgd(list(params.values()), recipe), [], []
    forward = vmap(lambda p, b, x: functional_call(skeleton, (p, b), (x,)), randomness='different')
    for x, y in zip(xs, ys):
        t0 = time.perf_counter()
        with autocast(recipe, CPU): out = forward(params, buffers, x)
        per_network = F.cross_entropy(out.float().flatten(0, 1), y.flatten(), reduction='none').view(y.shape).mean(1)
        opt.zero_grad(set_to_none=True); per_network.sum().backward(); opt.step()
        times.append(time.perf_counter() - t0); losses.append(per_network.tolist())
    return sorted(times[1:])[len(times[1:]) // 2], losses


def _worker(args):
    model, xs, ys, recipe = args
    torch.set_num_threads(1)
    return one_after_another([model], xs, ys, recipe)[0]


def in_processes(models, xs, ys, processes:int, recipe:Recipe)->float:
    "Seconds per step of all the networks, `processes` single-threaded processes each training its share."
    with mp.get_context('spawn').Pool(processes) as pool:
        per_network = pool.map(_worker, [(m, xs[:, g:g + 1], ys[:, g:g + 1], recipe) for g, m in enumerate(models)])
    return sum(per_network) / processes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', nargs='+', default=['resnet18', 'vgg16'])
    parser.add_argument('--networks', type=int, default=4, help='G, the networks trained together')
    parser.add_argument('--steps', type=int, default=6, help='SGD steps timed (the first is a warm-up; at least 2)')
    parser.add_argument('--batch-size', type=int, default=PROFILES['cpu'].recipe.batch_size)
    parser.add_argument('--width', type=float, default=PROFILES['cpu'].width)
    parser.add_argument('--side', type=int, default=14, help="input height and width (the cpu profile's fashion-mnist-14: 14)")
    parser.add_argument('--precision', choices=['recipe', 'fp32'], default='recipe',
                        help="as the cpu recipe trains here (bfloat16 where native) or float32")
    parser.add_argument('--threads', type=int, default=os.cpu_count(), help='torch threads of (1) and (2) (default: every core)')
    args = parser.parse_args()
    cores, recipe = os.cpu_count(), PROFILES['cpu'].recipe
    if args.precision == 'fp32': recipe = replace(recipe, precision='fp32')
    arithmetic = 'bfloat16, channels-last' if channels_last_used(recipe, CPU) else 'float32'
    shape = (1, args.side, args.side)
    for name in args.models:
        build = lambda: [build_model(name, shape, 10, args.width, seed=s) for s in range(args.networks)]
        xs, ys = batches(args.networks, args.steps, args.batch_size, shape)
        torch.set_num_threads(args.threads)
        sequential, losses = one_after_another(build(), xs, ys, recipe)
        batched, batched_losses = stacked(build(), xs, ys, recipe)
        parallel = in_processes(build(), xs, ys, cores, recipe)
        rate = lambda seconds: args.networks / seconds
        print(f"{name} x{args.width}, {args.networks} networks, batch {args.batch_size} of {shape}, {arithmetic}: networks "
              f"trained per second (network-steps/s): one after another {rate(sequential):.2f} and vmap-stacked "
              f"{rate(batched):.2f} on {args.threads} thread(s), {cores} processes x 1 thread {rate(parallel):.2f}")
        gap = lambda step: max(abs(a - b) for a, b in zip(losses[step], batched_losses[step]))
        print(f"{name}: batching ratio (vmap-stacked / one after another) {sequential / batched:.2f}; "
              f"parallel ratio ({cores} processes / one after another) {sequential / parallel:.2f}; "
              f"largest loss difference, stacked vs one after another: {gap(1):.1e} after one SGD step, "
              f"{gap(-1):.1e} after {args.steps - 1} (rounding differences that SGD amplifies)")


if __name__ == '__main__':
    main()

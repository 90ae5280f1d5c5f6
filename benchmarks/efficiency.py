"""How close the CPU profile's training comes to this machine's arithmetic limit, measured in one run.

The limit: the FLOP/s of a large matrix product in the precision the profile trains in here (bfloat16 where the
processor computes it natively, else float32), on 1 thread and on all of them. The step: one SGD step of the profile's
network (ResNet-18 at 1/8 width, batch 64 of 14x14 Fashion-MNIST, the recipe's precision and memory layout), whose
FLOPs are counted from its convolutions and linear layers (2 per multiply-add; the backward pass twice the forward's).
The whole reproduction: every training the results store recorded (each epoch's steps and test evaluations, counted
the same way per profile) over their busy wall time (the span of their finishing times, less any pause of more than 10
minutes between two of them). Written to benchmarks/efficiency.csv.

    python benchmarks/efficiency.py                    # the step, the limit, and the reproduction in results/
    python benchmarks/efficiency.py --steps 3 --size 256 --no-reproduction    # short, for the tests
"""
import argparse, functools, json, math, sqlite3, time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from autosparse.config import PROFILES, Execution, Profile, config_from_dict
from autosparse.store import Store
from autosparse.training import (autocast, build_profile_model, channels_last_used, load_profile_data, precision_used,
                                 recipe_sgd, to_device)

OUT = Path(__file__).with_name('efficiency.csv')

CPU = torch.device('cpu')


def peak_flops(dtype, size:int, repeats:int=5)->float:
    "FLOP/s of a size x size matrix product in `dtype`: the best of `repeats`."
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * size ** 3 / best


def _seconds(f)->float:
    t0 = time.perf_counter(); f(); return time.perf_counter() - t0


def forward_flops(model, input_shape:tuple)->int:
    "FLOPs of one example's forward pass through the convolutions and linear layers (2 per multiply-add)."
    total = []
    def count(m, i, o):
        if isinstance(m, torch.nn.Conv2d): total.append(2 * o[0].numel() * m.in_channels // m.groups * math.prod(m.kernel_size))
        elif isinstance(m, torch.nn.Conv1d): total.append(2 * o[0].numel() * m.in_channels // m.groups * m.kernel_size[0])
        elif isinstance(m, torch.nn.Linear): total.append(2 * o[0].numel() * m.in_features)
    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad(): model.eval()(torch.zeros(1, *input_shape))
    for h in hooks: h.remove()
    return sum(total)


def step_seconds(profile, steps:int)->float:
    "Seconds of one SGD step of the profile's training (its batch, precision and layout): the fastest of `steps` after two warm-ups."
    data, recipe = load_profile_data(profile), profile.recipe
    model = build_profile_model(profile, data, 0)
    layout = channels_last_used(recipe, CPU)
    if layout: model = model.to(memory_format=torch.channels_last)
    opt = recipe_sgd(model.parameters(), recipe)
    x, y = next(iter(data.batches(train=True, batch_size=recipe.batch_size, seed=0)))
    x = to_device(x, CPU, layout)
    def step():
        with autocast(recipe, CPU): loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    for _ in range(2): step()
    return min(_seconds(step) for _ in range(steps))


@functools.lru_cache(maxsize=None)
def flops_of(profile:Profile)->tuple:
    "Forward FLOPs per example of a profile's network, and the size of its test split."
    data = load_profile_data(profile)
    return forward_flops(build_profile_model(profile, data, 0), data.input_shape), len(data.test_y)


def reproduction_flops(results)->tuple:
    """The FLOPs of every training the store recorded (each step's batch at 3 forward passes, each test evaluation), how
    many, and when each finished."""
    store = Store(results)
    with sqlite3.connect(store.path) as db:
        rows = db.execute("SELECT key, config, finished FROM runs WHERE kind IN ('pai', 'irp-round')").fetchall()
    configs, finished = {k: c for k, c, _ in rows}, {k: f for k, _, f in rows}
    total, counted, ends = 0, 0, []
    for key, history in store.history(list(configs)).groupby('key'):
        stored = json.loads(configs[key])
        config = stored.get('config', stored)  # a PaI run's {kind, config}; an IRP round's {irp, round}
        described = config['profile'] if 'profile' in config else config['irp']['config']['profile']
        if ':' in described['model']: continue  # your own model's runs (your_model.ipynb, a factory of its own): not rebuilt here
        profile = config_from_dict(Profile, {k: v for k, v in described.items() if k != 'fingerprint'})
        per_example, tests = flops_of(profile)
        total += per_example * (3 * history.steps.fillna(0).sum() * profile.recipe.batch_size + tests * history.test_acc.notna().sum())
        counted += 1
        ends.append(finished[key])
    return total, counted, ends


def busy_seconds(finished:list, idle:float=600)->float:
    """The wall time of trainings that finished at these times: their span, less every pause between two longer than
    `idle` seconds (a run of your own model into the same store later, a guide page's, does not stretch it)."""
    finished = sorted(finished)
    return sum(b - a for a, b in zip(finished, finished[1:]) if b - a <= idle)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=20); parser.add_argument('--size', type=int, default=2048)
    parser.add_argument('--results', default=None); parser.add_argument('--no-reproduction', action='store_true')
    parser.add_argument('--out', default=str(OUT), help='the CSV it writes (default benchmarks/efficiency.csv)')
    args = parser.parse_args()
    rows = []
    profile = PROFILES['cpu']
    precision = precision_used(profile.recipe, CPU)
    dtype = torch.bfloat16 if precision == 'bf16' else torch.float32
    data = load_profile_data(profile)
    flops_per_step = 3 * profile.recipe.batch_size * forward_flops(build_profile_model(profile, data, 0), data.input_shape)
    print(f"the cpu profile's step: {flops_per_step / 1e9:.3f} GFLOP ({precision}, batch {profile.recipe.batch_size})")
    threads = torch.get_num_threads()
    for n in sorted({1, threads}):
        torch.set_num_threads(n)
        peak, seconds = peak_flops(dtype, args.size), step_seconds(profile, args.steps)
        print(f"{n} thread(s): peak {peak / 1e9:.1f} GFLOP/s ({args.size}x{args.size} {precision} matmul); step {seconds * 1e3:.1f} ms, "
              f"{flops_per_step / seconds / 1e9:.2f} GFLOP/s: efficiency (step / peak) {flops_per_step / seconds / peak:.3f}")
        rows.append(dict(what=f"the profile's training step, {n} thread{'s' if n > 1 else ''}", threads=n, precision=precision,
                         gflop_per_s=flops_per_step / seconds / 1e9, peak_gflop_per_s=peak / 1e9, efficiency=flops_per_step / seconds / peak))
    torch.set_num_threads(threads)
    if not args.no_reproduction:
        total, runs, finished = reproduction_flops(args.results)
        seconds = busy_seconds(finished)
        peak = peak_flops(dtype, args.size)
        print(f"the reproduction: {total / 1e15:.3f} PFLOP in {runs} trainings over {seconds / 60:.1f} busy min: "
              f"{total / seconds / 1e9:.2f} GFLOP/s on {threads} threads: efficiency (reproduction / peak) {total / seconds / peak:.3f}")
        rows.append(dict(what=f"the whole reproduction ({runs} trainings, {seconds / 60:.0f} busy min)", threads=threads, precision=precision,
                         gflop_per_s=total / seconds / 1e9, peak_gflop_per_s=peak / 1e9, efficiency=total / seconds / peak,
                         busy_minutes=seconds / 60, device=Execution.here(device=CPU).device))
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"written to {args.out}")


if __name__ == '__main__':
    main()

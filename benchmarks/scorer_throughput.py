"""AutoS scorer throughput: prunable weights scored per second, for each scorer network.

Scoring is one forward of the scorer network per weight (in chunks, eval mode, no gradient), the cost that AutoS adds
to pruning at initialization besides the g0 pass. The networks are untrained (the weights do not change the cost) and
the inputs are random feature rows of the paper's width (w0, g0).

    python benchmarks/scorer_throughput.py                       # mlp, mlp-official, resnet18 (the paper's: 3x32x32)
    python benchmarks/scorer_throughput.py --networks resnet18 --weights 4096 --precision bf16

It also prints what scoring the paper's ResNet-18 (11,164,352 prunable weights) would take at the measured rate.
"""
import argparse, time

import torch

from autosparse.autos import SCORER_NETWORKS, build_scorer_network
from autosparse.config import Recipe
from autosparse.training import autocast

PAPER_RESNET18_WEIGHTS = 11_164_352


def weights_per_second(network, weights:int, chunk:int, precision:str, repeats:int)->float:
    "The fastest of `repeats` timed passes over `weights` random rows, after a warm-up chunk."
    rows = torch.randn(weights, 2)
    context = lambda: autocast(Recipe(precision=precision), torch.device('cpu'))
    with torch.no_grad(), context():
        network(rows[:chunk])
        best = float('inf')
        for _ in range(repeats):
            t0 = time.perf_counter()
            for x in rows.split(chunk): network(x)
            best = min(best, time.perf_counter() - t0)
    return weights / best


def duration(seconds:float)->str:
    "Seconds as s, min or h, whichever reads best."
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--networks', nargs='+', default=list(SCORER_NETWORKS), choices=list(SCORER_NETWORKS))
    parser.add_argument('--weights', type=int, default=None, help='rows scored per pass (default: 2**18 for MLPs, 2048 for resnet18)')
    parser.add_argument('--chunk', type=int, default=None, help='rows per forward (default: 65536 for MLPs, 256 for resnet18)')
    parser.add_argument('--width', type=float, default=1.0, help="scorer width multiplier (the paper's: 1)")
    parser.add_argument('--image-side', type=int, default=32, help="pseudo-image side of resnet18 (the paper's: 32)")
    parser.add_argument('--precision', default='fp32', choices=['fp32', 'bf16'])
    parser.add_argument('--repeats', type=int, default=2)
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, precision {args.precision}")
    for name in args.networks:
        small = name.startswith('mlp')
        weights = args.weights or (2 ** 18 if small else 2048)
        chunk = min(args.chunk or (65536 if small else 256), weights)
        network = build_scorer_network(name, 2, args.width, args.image_side).eval()
        rate = weights_per_second(network, weights, chunk, args.precision, args.repeats)
        print(f"{name:>13}: {rate:,.0f} weights scored per second "
              f"(ResNet-18's {PAPER_RESNET18_WEIGHTS:,} weights in {duration(PAPER_RESNET18_WEIGHTS / rate)})")


if __name__ == '__main__':
    main()

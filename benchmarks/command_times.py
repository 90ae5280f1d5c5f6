"""How long the commands a reader types take on this machine, each run as typed and timed from start to end.

The smoke reproduction cold, again with nothing changed, and cold with two notebooks side by side (`--jobs 2`); the
card's command (`papermill nbs/ablation.ipynb -p sparsity 0.99`) cold at the smoke profile and at the CPU profile with
the reproduction's artifacts (the results store of `make reproduce`, whose trainings ran as Ray tasks of one thread
each: `-p backend ray` finds them under their keys; the local backend's two threads would train them anew).
Each command runs in a fresh temporary folder (its figures too, so that no committed figure is
touched); the times go to benchmarks/command-times.csv, one row per command and measurement, which the README's table
of command times reads. `make reproduce` itself is timed by its own log (figures/reproduce-cpu.csv).

    python benchmarks/command_times.py                       # every command (about 20 minutes on 2 cores)
    python benchmarks/command_times.py --only help-notebook  # one of them
"""
import argparse, os, shutil, subprocess, sys, tempfile, time
from datetime import datetime
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OUT = ROOT/'benchmarks'/'command-times.csv'

SMOKE = ['autosparse', 'reproduce', '--profile', 'smoke', '--runs', '{tmp}/runs', '--results', '{tmp}/results', '--figures', '{tmp}/figures']
SIDE_BY_SIDE = [a.replace('{tmp}', '{tmp}/jobs') for a in SMOKE] + ['--jobs', '2']  # its own folders
COMMANDS = {  # name: (the command as typed, what it needs)
    'smoke-reproduction-cold': (SMOKE, 'an empty results folder'),
    'smoke-reproduction-current': (SMOKE, 'the smoke reproduction just made: every notebook current'),
    'smoke-reproduction-side-by-side-cold': (SIDE_BY_SIDE, 'an empty results folder'),
    'card-smoke-cold': (['papermill', 'nbs/ablation.ipynb', '-p', 'sparsity', '0.99', '-p', 'profile', 'smoke',
                         '-p', 'results', '{tmp}/card-results', '-p', 'figures', '{tmp}/card-figures'], 'an empty results folder'),
    'card-cpu-artifacts': (['papermill', 'nbs/ablation.ipynb', '-p', 'sparsity', '0.99', '-p', 'backend', 'ray', '-p', 'figures', '{tmp}/card-figures'],
                           "the CPU reproduction's results store (results/), on the backend that computed it (on CPUs a run's key holds its thread count)"),
    'help-notebook': (['papermill', '--help-notebook', 'nbs/ablation.ipynb'], 'nothing'),
}


def timed(name:str, tmp:Path)->dict:
    "Run one command from the project folder (its notebook JSON on standard output discarded); its row."
    command, needs = COMMANDS[name]
    args = [a.format(tmp=tmp) for a in command]
    print(f"{name}: {' '.join(args)}", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run([str(BIN/args[0]), *args[1:]], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode: raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    print(f"  {seconds:.1f} s", flush=True)
    return dict(command=name, typed=' '.join(command).replace('{tmp}', '$TMP'), needs=needs, seconds=round(seconds, 1),
                measured=datetime.now().isoformat(timespec='seconds'), threads=torch.get_num_threads(), cores=os.cpu_count())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--only', nargs='+', choices=list(COMMANDS), help='the commands to time (default: every one, in order)')
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix='command-times-'))
    try: rows = [timed(name, tmp) for name in (args.only or COMMANDS)]
    finally: shutil.rmtree(tmp, ignore_errors=True)
    log = pd.concat([pd.read_csv(OUT) if OUT.exists() else None, pd.DataFrame(rows)], ignore_index=True)
    log.to_csv(OUT.with_suffix('.tmp'), index=False); OUT.with_suffix('.tmp').replace(OUT)
    print(pd.DataFrame(rows)[['command', 'seconds']].to_string(index=False))


if __name__ == '__main__':
    main()

"Scaling out: smoke grids on a local Ray with 2 CPUs, and one smoke training under torchrun with 2 CPU processes (gloo)."
import json, os, re, signal, sqlite3, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from dataclasses import replace

from autosparse.config import Execution, get_profile
from autosparse.runs import GridError, PaIRun, grid_runs, run_grid, run_pai
from autosparse.store import Store

pytestmark = pytest.mark.slow  # end to end: `make test` runs it, `make check` does not

BIN = Path(sys.executable).parent
COMPARED = ['method', 'sparsity', 'seed', 'check', 'last_acc', 'best_acc', 'best_epoch', 'mask', 'scorer']

@pytest.fixture(scope='module')
def local_ray():
    ray = pytest.importorskip('ray')
    ray.init(num_cpus=2, include_dashboard=False, logging_level='warning')
    yield ray
    ray.shutdown()

def finished_at(root:Path)->dict:
    "Each stored run's key and the time its record was written; empty while the store is still creating its tables."
    with sqlite3.connect(Path(root)/'autosparse.sqlite') as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='runs'").fetchone(): return {}
        return dict(db.execute('SELECT key, finished FROM runs'))

def test_ray_grid_stores_what_the_in_process_grid_stores(tmp_path, local_ray):
    # a learned criterion too: its IRP run and density model are learned by the driver, as in-process
    grid = grid_runs('smoke', ['magnitude', 'snip', 'irp-layers+random'], [0.9], seeds=1)
    local = run_grid(grid, tmp_path/'local', progress=False)
    # on CPUs a run's numbers depend on the torch thread count: the tasks use as many as this process
    remote = run_grid(grid, tmp_path/'ray', progress=False, backend='ray', cpus_per_run=torch.get_num_threads())
    assert remote[COMPARED].to_dict('records') == local[COMPARED].to_dict('records')
    irp_rounds = lambda root: Store(root).records(kind='irp-round')[['round', 'kept', 'last_acc']].to_dict('records')
    assert irp_rounds(tmp_path/'ray') == irp_rounds(tmp_path/'local') and irp_rounds(tmp_path/'ray')

def test_a_failed_ray_task_is_reported_and_the_others_finish(tmp_path, local_ray, capsys):
    smoke = get_profile('smoke')
    unprunable = replace(smoke, name='smoke-unprunable', model=torch.nn.Flatten)  # scoring it fails in the task
    runs = [PaIRun(unprunable, 'random', 0.9)] + grid_runs(smoke, ['magnitude'], [0.5, 0.9], seeds=1)
    with pytest.raises(GridError, match='1 of 4 runs failed') as failure:
        run_grid(runs, tmp_path, progress=False, backend='ray')
    one_thread = Execution.here(threads=1)   # Ray tasks of one CPU (the default cpus_per_run) train with one thread
    assert f'PaIRun profile=smoke-unprunable criterion=random sparsity=0.9 (key {runs[0].key(one_thread)})' in str(failure.value)
    assert 'the model has no prunable layer' in str(failure.value)
    assert 'failed: PaIRun profile=smoke-unprunable' in capsys.readouterr().out  # reported as it happened
    assert sorted(Store(tmp_path).records(kind='pai').key) == sorted(r.key(one_thread) for r in runs[1:])

def test_an_interrupted_ray_grid_runs_only_the_missing_cells(tmp_path):
    pytest.importorskip('ray')
    grid = "grid_runs('smoke', ['magnitude', 'snip', 'random'], [0.5, 0.9], seeds=1)"
    driver = (f"import ray\nfrom autosparse.runs import grid_runs, run_grid\n"
              f"ray.init(num_cpus=2, include_dashboard=False, logging_level='warning')\n"  # a Ray of its own
              f"run_grid({grid}, {str(tmp_path)!r}, progress=False, backend='ray')")
    process = subprocess.Popen([sys.executable, '-c', driver], start_new_session=True)
    deadline = time.time() + 300
    while not (tmp_path/'autosparse.sqlite').exists() or len(finished_at(tmp_path)) < 2:
        assert process.poll() is None and time.time() < deadline, "the grid ended or stalled before two runs finished"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and the local Ray it started
    process.wait()
    before = finished_at(tmp_path)
    assert 2 <= len(before) < 7
    rerun = subprocess.run([sys.executable, '-c', driver.replace('progress=False', 'progress=True')],
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"grid: {len(before)} of 7 runs already finished; running the other {7 - len(before)}" in rerun.stdout
    after = finished_at(tmp_path)
    assert len(after) == 7 and all(after[k] == t for k, t in before.items())  # the finished cells were not run again

def test_torchrun_trains_one_run_on_two_processes_with_one_mask(tmp_path):
    command = [str(BIN/'torchrun'), '--standalone', '--nproc_per_node', '2', '--no-python', 'autosparse', 'run',
               '--profile', 'smoke', '--criterion', 'snip', '--sparsity', '0.9', '--results', str(tmp_path/'ddp')]
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", OMP_NUM_THREADS='1')
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    checks = dict(re.findall(r"rank (\d): mask (\w+) \([\d,]+ weights kept\) equals rank 0's", done.stdout))
    assert sorted(checks) == ['0', '1'] and checks['0'] == checks['1']  # both ranks checked one mask
    record = json.loads(done.stdout.strip().splitlines()[-1])
    single = run_pai(PaIRun(get_profile('smoke'), 'snip', 0.9), results=tmp_path/'single', progress=False)
    assert record['mask'] == single['mask'] == checks['0']
    assert len(Store(tmp_path/'ddp').records()) == 1 and list((tmp_path/'ddp'/'pai').iterdir())[0].name == record['key']


ONE_STEP = """
import sys, torch, torch.distributed as dist
from dataclasses import replace
from autosparse.config import get_profile
from autosparse.training import build_profile_model, init_distributed, load_profile_data, train
rank, world = init_distributed()
smoke = get_profile('smoke')
data = load_profile_data(smoke).subset(16)   # 160 images: one batch of 160, one SGD step, split over the ranks
model = build_profile_model(smoke, data, 0)
train(model, data, replace(smoke.recipe, epochs=1, milestones=(1,), batch_size=160, precision='fp32'), progress=False)
torch.save(model.state_dict(), f'{sys.argv[1]}/rank{rank}.pt')
dist.destroy_process_group()
"""

def test_a_two_rank_step_is_the_mean_of_its_two_halves(tmp_path):
    "What is determined: each rank's update equals one process's from the mean gradient of the two ranks' halves of the batch."
    from dataclasses import replace
    import torch.nn.functional as F
    from autosparse.training import build_profile_model, epoch_seed, load_profile_data
    (tmp_path/'step.py').write_text(ONE_STEP)
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", OMP_NUM_THREADS='1')
    done = subprocess.run([str(BIN/'torchrun'), '--standalone', '--nproc_per_node', '2', str(tmp_path/'step.py'), str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path/f'rank{r}.pt') for r in (0, 1)]
    smoke = get_profile('smoke')
    data = load_profile_data(smoke).subset(16)
    recipe = replace(smoke.recipe, epochs=1, milestones=(1,), batch_size=160, precision='fp32')
    [(x, y)] = list(data.batches(train=True, batch_size=160, seed=epoch_seed(0, 0)))
    model = build_profile_model(smoke, data, 0)
    halves = [build_profile_model(smoke, data, 0) for _ in (0, 1)]     # what each rank computes on its half
    for r, half in enumerate(halves):
        half.train(); F.cross_entropy(half(x[r::2]), y[r::2]).backward()
    model.load_state_dict(halves[0].state_dict())                       # rank 0's BatchNorm statistics (DDP broadcasts its buffers)
    for p, a, b in zip(model.parameters(), halves[0].parameters(), halves[1].parameters()): p.grad = (a.grad + b.grad) / 2
    torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.nesterov,
                    weight_decay=recipe.weight_decay).step()
    parameters = dict(model.named_parameters())
    for name, value in model.state_dict().items():
        if name in parameters: assert torch.equal(ranks[0][name], ranks[1][name]), name  # the weights: the same on both ranks
        assert torch.allclose(ranks[0][name].float(), value.float(), rtol=1e-5, atol=1e-6), name  # up to float summation order

"""Faults, tried as a user meets them: a real `autosparse` process killed with SIGKILL and run again, two processes on
one results root, damaged artifacts and a damaged database, a results root that cannot be written, other thread
counts, a loaded machine. Every result is compared with an uninterrupted run on a fresh results root: the records
(without their provenance, which holds wall times) and the checksum of every artifact file."""
import json, os, re, shutil, signal, sqlite3, subprocess, sys, time
from pathlib import Path

import pytest

from autosparse.store import sha256

pytestmark = pytest.mark.slow  # end to end: `make test` runs it, `make check` does not

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
GRID = ['grid', '--profile', 'smoke', '--criteria', 'magnitude', 'snip', 'autos', '--sparsities', '0.9']  # learns IRP and a scorer
IRP = ['irp', '--profile', 'smoke']


def autosparse(*args, expect:int=0, prefix:list=())->subprocess.CompletedProcess:
    "Run the command to its end (after `prefix`, a command that runs it); check its exit status."
    done = subprocess.run([*prefix, str(BIN/'autosparse'), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == expect, f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def records(root:Path)->dict:
    "Every record of a results root by key, without its provenance."
    with sqlite3.connect(root/'autosparse.sqlite', timeout=60) as db:
        return {k: {f: v for f, v in json.loads(r).items() if f != 'provenance'} for k, r in db.execute('SELECT key, record FROM runs')}


def artifacts(root:Path)->dict:
    "The checksum of every artifact file of a results root, each checked against the one the store recorded."
    with sqlite3.connect(root/'autosparse.sqlite', timeout=60) as db: recorded = dict(db.execute('SELECT path, sha256 FROM artifacts'))
    files = {p: sha256(root/p) for p in recorded if (root/p).exists()}
    assert all(files[p] == recorded[p] for p in files), "an artifact differs from its recorded checksum"
    unrecorded = [p for p in root.rglob('*') if p.suffix in ('.pt', '.safetensors') and str(p.relative_to(root)) not in recorded]
    assert not unrecorded, f"artifacts without a recorded checksum: {unrecorded}"
    return files


def count(root:Path, sql:str)->int:
    "A count from a results database that another process may be writing (0 while it does not exist)."
    if not (root/'autosparse.sqlite').exists(): return 0
    try:
        with sqlite3.connect(root/'autosparse.sqlite', timeout=60) as db: return db.execute(sql).fetchone()[0]
    except sqlite3.OperationalError: return 0  # not created yet


def kill_when(args:list, ready, timeout:float=600)->bool:
    "Start `autosparse args`; SIGKILL it and its children as soon as `ready()` holds. Whether it was killed before it ended."
    process = subprocess.Popen([str(BIN/'autosparse'), *map(str, args)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + timeout
    while process.poll() is None:
        if ready():
            os.killpg(process.pid, signal.SIGKILL); process.wait()
            return True
        assert time.time() < deadline, f"{args} ran for {timeout} s"
        time.sleep(0.02)
    return False


@pytest.fixture(scope='module')
def reference(tmp_path_factory)->Path:
    "An uninterrupted smoke grid with AutoS (so also the smoke IRP run and its scorer), on a fresh results root."
    root = tmp_path_factory.mktemp('reference')
    autosparse(*GRID, '--results', root)
    return root


def recorded(root:Path, pattern:str)->bool:
    "Whether the store has recorded an artifact whose path matches the SQL pattern (written and checksummed)."
    return count(root, f"SELECT COUNT(*) FROM artifacts WHERE path LIKE '{pattern}'") > 0


def test_a_grid_killed_three_times_ends_as_an_uninterrupted_one(reference, tmp_path):
    kills = [('the first training', lambda: recorded(tmp_path, 'pai/%/train.pt')),
             ('an IRP round of the scorer', lambda: recorded(tmp_path, 'irp/%/round-01/mask.safetensors')),
             ('the scorer training', lambda: recorded(tmp_path, 'scorer/%/train.pt'))]
    killed = [point for point, ready in kills if kill_when([*GRID, '--results', tmp_path], ready)]
    assert len(killed) == 3, f"killed only during {killed}"
    rerun = autosparse(*GRID, '--results', tmp_path)
    assert 'resumed' in rerun.stdout or 'resuming' in rerun.stdout
    assert records(tmp_path) == records(reference)
    assert artifacts(tmp_path) == artifacts(reference)
    print(f"{len(records(tmp_path))}/{len(records(reference))} records and {len(artifacts(tmp_path))}/{len(artifacts(reference))} "
          f"artifacts identical after kills during {', '.join(killed)}")


def test_an_irp_run_killed_twice_ends_as_an_uninterrupted_one(reference, tmp_path):
    finished_rounds = lambda: count(tmp_path, "SELECT COUNT(*) FROM runs WHERE kind = 'irp-round'")
    assert kill_when([*IRP, '--results', tmp_path], lambda: finished_rounds() >= 1)                          # between rounds
    assert kill_when([*IRP, '--results', tmp_path], lambda: recorded(tmp_path, 'irp/%/round-02/train.pt'))   # mid-round
    rerun = autosparse(*IRP, '--results', tmp_path)
    assert 'resuming at round' in rerun.stdout and 'resumed from' in rerun.stdout
    ours, theirs = records(tmp_path), records(reference)
    assert len(ours) == 3 and ours == {k: theirs[k] for k in ours}
    ours, theirs = artifacts(tmp_path), artifacts(reference)
    assert len(ours) == 6 and ours == {p: theirs[p] for p in ours}   # each round's mask and checkpoint


def test_two_processes_on_one_results_root(reference, tmp_path):
    both = [subprocess.Popen([str(BIN/'autosparse'), *GRID, '--results', str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=900) for p in both]
    assert [p.returncode for p in both] == [0, 0], [e[-2000:] for _, e in outputs]
    printed = ''.join(out for out, _ in outputs)
    assert len(re.findall(r'seed \d+: test accuracy', printed)) == 4  # each of the 4 runs trained by one of the two processes, once
    assert printed.count('IRP ') == 3                 # the scorer's IRP run, its 3 rounds trained once
    assert printed.count('held-out MSE') == 1         # the scorer trained once
    assert records(tmp_path) == records(reference) and artifacts(tmp_path) == artifacts(reference)
    assert not list(tmp_path.rglob('*.tmp'))


def flip(path:Path):
    "Flip one bit in the middle of a file."
    raw = bytearray(path.read_bytes()); raw[len(raw) // 2] ^= 1; path.write_bytes(raw)


def forget(root:Path, key:str):
    "Delete a run's record, as if it had been killed before it finished."
    with sqlite3.connect(root/'autosparse.sqlite') as db: db.execute('DELETE FROM runs WHERE key = ?', (key,))


def test_every_kind_of_damaged_artifact_is_reported_and_computed_again(reference, tmp_path):
    root = tmp_path/'results'
    shutil.copytree(reference, root)
    runs = {r['method']: k for k, r in records(root).items() if 'method' in r}
    irp, scorer = next((root/'irp').iterdir()), next((root/'scorer').iterdir())
    flip(root/'pai'/runs['snip']/'mask.safetensors'); forget(root, runs['snip'])                   # a mask, its run unfinished
    train = root/'pai'/runs['magnitude']/'train.pt'
    train.write_bytes(train.read_bytes()[:1000]); forget(root, runs['magnitude'])                 # a checkpoint, truncated
    (scorer/'scorer.safetensors').unlink(); forget(root, runs['autos'])                           # a scorer's file gone, its row kept
    flip(irp/'surviving-scores.safetensors')                                                      # the IRP data set
    flip(irp/'round-01'/'mask.safetensors'); flip(irp/'round-02'/'train.pt')                      # an IRP round's mask and checkpoint
    said = autosparse(*GRID, '--results', root).stdout
    for message in [f"pai/{runs['snip']}/mask.safetensors is damaged", f"pai/{runs['magnitude']}/train.pt is truncated",
                    f"scorer/{scorer.name}/scorer.safetensors is missing", f"irp/{irp.name}/surviving-scores.safetensors is damaged",
                    f"irp/{irp.name}/round-01/mask.safetensors is damaged", f"irp/{irp.name}/round-02/train.pt is damaged"]:
        assert message in said, message
    assert records(root) == records(reference) and artifacts(root) == artifacts(reference)


def test_a_damaged_database_is_set_aside_and_everything_computed_again(reference, tmp_path):
    root = tmp_path/'results'
    shutil.copytree(reference, root)
    database = root/'autosparse.sqlite'
    database.write_bytes(b'\0' * 100 + database.read_bytes()[100:])
    said = autosparse(*GRID, '--results', root).stdout
    assert 'autosparse.sqlite is damaged' in said and 'has no recorded checksum' in said
    assert len([p for p in root.glob('autosparse.sqlite.damaged-*') if not p.name.endswith(('-wal', '-shm'))]) == 1
    assert records(root) == records(reference) and artifacts(root) == artifacts(reference)


def read_only_prefix()->list:
    "A command prefix under which this process's user cannot write files without write permission (root otherwise can)."
    if os.geteuid() != 0: return []
    # in a user namespace of its own, root keeps its uid for file access but loses the capability to override permissions
    if shutil.which('unshare') and subprocess.run(['unshare', '-U', 'true'], capture_output=True).returncode == 0: return ['unshare', '-U']
    pytest.skip("running as root without user namespaces: no way to make a folder read-only for this process")


def test_a_read_only_results_root_can_be_read(reference, tmp_path):
    root = tmp_path/'results'
    shutil.copytree(reference, root)
    prefix = read_only_prefix()
    tree = [root, *root.rglob('*')]
    for p in tree: p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        before = {p: p.stat().st_mtime_ns for p in tree}
        table = autosparse(*GRID, '--results', root, prefix=prefix).stdout
        assert all(method in table for method in ('dense', 'magnitude', 'snip', 'autos'))
        missing = autosparse('run', '--profile', 'smoke', '--criterion', 'random', '--sparsity', '0.5', '--results', root,
                             expect=2, prefix=prefix)
        assert len(missing.stderr.strip().splitlines()) == 1 and 'is read-only' in missing.stderr, missing.stderr
        assert {p: p.stat().st_mtime_ns for p in root.rglob('*')} == {p: t for p, t in before.items() if p != root}  # nothing written
    finally:
        for p in tree: p.chmod(0o755 if p.is_dir() else 0o644)


PROBE = """
import sys, torch
torch.set_num_threads(int(sys.argv[1]))
from autosparse.config import get_profile
from autosparse.registry import prune
from autosparse.runs import PaIRun
from autosparse.training import build_profile_model, load_profile_data
smoke = get_profile('smoke'); data = load_profile_data(smoke); model = build_profile_model(smoke, data, 0)
masks = {c: prune(c, model, 0.95, data, seed=1, **({'iterations': 10} if c == 'synflow' else {})).fingerprint()
         for c in ('random', 'magnitude', 'grasp', 'synflow', 'npb')}
print('RESULT', PaIRun(smoke, 'grasp', 0.95).key(), *masks.values())
"""


def probe(threads:int)->list:
    done = subprocess.run([sys.executable, '-c', PROBE, str(threads)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return next(l for l in done.stdout.splitlines() if l.startswith('RESULT')).split()[1:]


def test_masks_do_not_depend_on_the_thread_count_but_keys_do():
    one, two = probe(1), probe(2)
    assert one[1:] == two[1:]    # the same masks: GraSP in float64, SynFlow in float64, NPB bounded by work
    assert one[0] != two[0]      # a run's key names its thread count: its training's numbers depend on it


def test_npb_gives_the_same_mask_on_a_loaded_machine():
    idle = probe(2)
    burners = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(4)]
    try: loaded = probe(2)
    finally:
        for b in burners: b.kill()
    assert loaded == idle

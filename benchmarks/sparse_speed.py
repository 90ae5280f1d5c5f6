"""Why a pruned model is not faster or smaller by itself, measured: torchvision's ResNet-18 at 99 % sparsity.

Unstructured masks zero weights inside dense tensors, so dense kernels do the same work: this measures the inference
latency of the dense model, of the masked model (zeros in place), and of the model in `torch.nn.utils.prune`'s form
(weight_orig * weight_mask on every call); the size on disk of the dense checkpoint against a compressed sparse export
(each layer's kept values and their positions, CSR, in safetensors); and, layer by layer, whether torch's own sparse
CSR kernel (`torch.sparse.mm`, MKL on x86) beats the dense matrix product of that layer's im2col form at the mask's
density. Every number is measured in this run and written to benchmarks/sparse-speed.csv.

    python benchmarks/sparse_speed.py                       # 32x32 inputs, batch 64, SynFlow's mask at 99 %
    python benchmarks/sparse_speed.py --side 16 --batch 4 --repeats 2 --criterion magnitude   # short, for the tests
"""
import argparse, math, statistics, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore', message='Sparse CSR tensor support is in beta')

import pandas as pd
import torch
import torch.nn.functional as F
import torchvision

from autosparse.masks import LayerCollapse, prunable_parameters
from autosparse.registry import prune

OUT = Path(__file__).with_name('sparse-speed.csv')


def latency(model, x, repeats:int)->float:
    "Median seconds of one inference pass (after a warm-up pass)."
    with torch.no_grad():
        model(x)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter(); model(x); times.append(time.perf_counter() - t0)
    return statistics.median(times)


def file_bytes(tensors:dict)->int:
    "The size of a safetensors file of these tensors."
    from safetensors.torch import save_file
    with tempfile.TemporaryDirectory() as d:
        save_file({k: v.contiguous() for k, v in tensors.items()}, f'{d}/t.safetensors')
        return Path(f'{d}/t.safetensors').stat().st_size


def w_columns(t)->int: return math.prod(t.shape[1:])


def sparse_export(model)->dict:
    "Every tensor of the state dict; each prunable weight as CSR (crow and col indices, values) of its (out, rest) matrix."
    out = {}
    prunable = {n for n in prunable_parameters(model)}
    for name, t in model.state_dict().items():
        if name in prunable:
            csr = t.detach().reshape(t.shape[0], -1).to_sparse_csr()
            narrow = torch.int16 if w_columns(t) < 2 ** 15 else torch.int32
            out.update({f'{name}.crow': csr.crow_indices().int(), f'{name}.col': csr.col_indices().to(narrow), f'{name}.values': csr.values()})
        else: out[name] = t
    return out


def layer_products(model, mask, x, repeats:int)->list:
    "Per conv layer: the dense and the CSR product of its im2col form at the mask's density, in seconds."
    shapes, rows = {}, []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, i[0].shape))
             for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad(): model(x)
    for h in hooks: h.remove()
    modules = dict(model.named_modules())
    for name, shape in shapes.items():
        conv, keep = modules[name], mask[f'{name}.weight']
        w = (conv.weight * keep).reshape(conv.out_channels, -1).detach()
        columns = F.unfold(torch.randn(shape), conv.kernel_size, conv.dilation, conv.padding, conv.stride)  # N x (C k k) x L
        b = columns.permute(1, 0, 2).reshape(w.shape[1], -1).contiguous()
        csr = w.to_sparse_csr()
        time_of = lambda f: statistics.median([_timed(f) for _ in range(repeats)])
        dense, sparse = time_of(lambda: w @ b), time_of(lambda: torch.sparse.mm(csr, b))
        assert torch.allclose(torch.sparse.mm(csr, b), w @ b, rtol=1e-3, atol=1e-3)
        rows.append(dict(layer=name, shape=f"{tuple(w.shape)} x {tuple(b.shape)}", density=float(keep.float().mean()),
                         dense_seconds=dense, csr_seconds=sparse, csr_speedup=dense / sparse))
    return rows


def _timed(f)->float:
    t0 = time.perf_counter(); f(); return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--criterion', default='synflow'); parser.add_argument('--sparsity', type=float, default=0.99)
    parser.add_argument('--side', type=int, default=32); parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--repeats', type=int, default=5); parser.add_argument('--out', default=str(OUT))
    args = parser.parse_args()
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10).eval()
    x = torch.randn(args.batch, 3, args.side, args.side)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', LayerCollapse)
        mask = prune(args.criterion, model, args.sparsity, input_shape=(3, args.side, args.side), **({'iterations': 20} if 'synflow' in args.criterion else {}))
    dense_latency = latency(model, x, args.repeats)
    dense_bytes = file_bytes(model.state_dict())
    masked = torchvision.models.resnet18(num_classes=10).eval(); masked.load_state_dict(model.state_dict()); mask.apply(masked)
    masked_latency = latency(masked, x, args.repeats)
    sparse_bytes = file_bytes(sparse_export(masked))
    reparametrized = torchvision.models.resnet18(num_classes=10).eval(); reparametrized.load_state_dict(masked.state_dict())
    mask.to_torch_prune(reparametrized)
    reparametrized_latency = latency(reparametrized, x, args.repeats)
    layers = layer_products(masked, mask, x[:max(1, args.batch // 8)], args.repeats)
    faster = [r for r in layers if r['csr_speedup'] > 1]
    rows = [dict(measure='inference, dense model (s)', value=dense_latency), dict(measure='inference, masked model (s)', value=masked_latency),
            dict(measure='inference, torch.nn.utils.prune form (s)', value=reparametrized_latency),
            dict(measure='masked / dense latency', value=masked_latency / dense_latency),
            dict(measure='dense checkpoint (bytes)', value=dense_bytes), dict(measure='sparse CSR export (bytes)', value=sparse_bytes),
            dict(measure='sparse / dense size', value=sparse_bytes / dense_bytes),
            dict(measure='conv layers where CSR beats the dense product', value=len(faster)), dict(measure='conv layers', value=len(layers)),
            dict(measure='best CSR speed-up of a layer', value=max(r['csr_speedup'] for r in layers)),
            dict(measure='all conv products, dense / CSR seconds',  # the layers' products at batch // 8, summed
                 value=sum(r['dense_seconds'] for r in layers) / sum(r['csr_seconds'] for r in layers))]
    summary = pd.DataFrame(rows).assign(criterion=args.criterion, sparsity=args.sparsity, side=args.side, batch=args.batch,
                                        threads=torch.get_num_threads())
    pd.concat([summary, pd.DataFrame(layers).assign(measure='layer')], ignore_index=True).to_csv(args.out, index=False)
    print(f"torchvision ResNet-18, {args.criterion} at {args.sparsity:.0%}, batch {args.batch} at {args.side}x{args.side}, {torch.get_num_threads()} threads")
    for r in rows: print(f"  {r['measure']}: {r['value']:.4g}")
    for r in layers: print(f"  {r['layer']} {r['shape']} at density {r['density']:.4f}: CSR speed-up {r['csr_speedup']:.2f}x")
    print(f"written to {args.out}")


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Reference vectors for STNCore's grid generators and bilinear sampler, from PyTorch.

Writes Tests/STNCoreTests/Fixtures/sampler_<case>.json. Each case: an input [N, C, Hi, Wi],
θ for one transform kind, the grid (affine_grid, align_corners=False, or the homography
written out), output = grid_sample(input, grid, "bilinear", padding, align_corners=False),
and the gradients of sum(output * weights) w.r.t. input, grid and θ.

Everything is computed in float64 from float32-representable inputs (short decimals), so
the fixtures are the exact answer and the Swift Float32 code is compared with a tolerance.
Points whose pixel coordinates lie within 1e-3 of a kink of the bilinear kernel (an integer,
or the clamp limits of border padding) are redrawn, so the gradients are well defined.

Run from the repository root:  python3 pipelines/reference/sampler_reference.py
(CI does not run it; the JSON files are committed.)
"""
import json
import pathlib
import struct

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests" / "STNCoreTests" / "Fixtures"
N, C, HI, WI, HO, WO = 2, 3, 5, 7, 4, 6


def short(t, decimals):
    """Round to a few decimals and make the value float32-representable."""
    return torch.round(t * 10**decimals).div(10**decimals).float().double()


def attention_to_affine(p):
    s, tx, ty = p[:, 0], p[:, 1], p[:, 2]
    zero = torch.zeros_like(s)
    return torch.stack([s, zero, tx, zero, s, ty], dim=1)


def projective_grid(h, height, width):
    n = h.shape[0]
    hom = torch.cat([h, torch.ones(n, 1, dtype=h.dtype)], dim=1).view(n, 3, 3)
    xs = (2 * torch.arange(width, dtype=h.dtype) + 1) / width - 1
    ys = (2 * torch.arange(height, dtype=h.dtype) + 1) / height - 1
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    base = torch.stack([xx, yy, torch.ones_like(xx)], dim=-1).view(1, -1, 3)
    mapped = base @ hom.transpose(1, 2)  # [n, H*W, 3]
    grid = mapped[..., :2] / mapped[..., 2:]
    return grid.view(n, height, width, 2)


def make_grid(kind, theta):
    if kind == "affine":
        return F.affine_grid(theta.view(N, 2, 3), (N, C, HO, WO), align_corners=False)
    if kind == "attention":
        return F.affine_grid(attention_to_affine(theta).view(N, 2, 3), (N, C, HO, WO), align_corners=False)
    if kind == "projective":
        return projective_grid(theta, HO, WO)
    raise ValueError(kind)


def kink_distance(grid):
    """Smallest distance of any pixel coordinate from a kink of the sampled function: the
    integers (kernel and zeros-padding edges), which include border padding's clamp limits."""
    ix = ((grid[..., 0] + 1) * WI - 1) / 2
    iy = ((grid[..., 1] + 1) * HI - 1) / 2
    d = torch.minimum((ix - ix.round()).abs(), (iy - iy.round()).abs())
    return d.min().item()


def draw_theta(kind, zoom, gen):
    def rand(*shape):
        return torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1

    if kind == "affine":
        identity = torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float64)
        scale = 1.8 if zoom else 1.0
        return short(identity * scale + 0.3 * rand(N, 6), 3)
    if kind == "attention":
        s = (1.5 + 0.3 * rand(N, 1)) if zoom else (0.7 + 0.2 * rand(N, 1))
        t = 0.3 * rand(N, 2)
        return short(torch.cat([s, t], dim=1), 3)
    if kind == "projective":
        identity = torch.tensor([1, 0, 0, 0, 1, 0, 0, 0], dtype=torch.float64)
        noise = torch.cat([0.2 * rand(N, 6), 0.25 * rand(N, 2)], dim=1)
        return short(identity + noise, 3)
    raise ValueError(kind)


def make_case(name, kind, padding, zoom, seed):
    gen = torch.Generator().manual_seed(seed)
    while True:
        theta = draw_theta(kind, zoom, gen)
        grid = make_grid(kind, theta)
        if kink_distance(grid) > 1e-3:
            break
    inp = short(torch.rand(N, C, HI, WI, generator=gen, dtype=torch.float64), 3)
    weights = short(torch.rand(N, C, HO, WO, generator=gen, dtype=torch.float64) * 2 - 1, 3)

    inp.requires_grad_(True)
    theta.requires_grad_(True)
    grid = make_grid(kind, theta)
    grid.retain_grad()
    out = F.grid_sample(inp, grid, mode="bilinear", padding_mode=padding, align_corners=False)
    (out * weights).sum().backward()

    def exact(t):
        """float32-representable values, in the fewest digits that round-trip through float32."""
        values = []
        for v in t.detach().reshape(-1).tolist():
            for digits in range(1, 10):
                text = f"{v:.{digits}g}"
                if struct.unpack("f", struct.pack("f", float(text)))[0] == v:
                    break
            values.append(float(text))
        return values

    def result(t):
        """Computed values: 7 significant digits, far below the tests' tolerance."""
        return [float(f"{v:.7g}") for v in t.detach().reshape(-1).tolist()]

    case = {
        "name": name,
        "kind": kind,
        "padding": padding,
        "batch": N, "channels": C,
        "inputHeight": HI, "inputWidth": WI,
        "outputHeight": HO, "outputWidth": WO,
        "theta": exact(theta),
        "input": exact(inp),
        "weights": exact(weights),
        "grid": result(grid),
        "output": result(out),
        "gradInput": result(inp.grad),
        "gradGrid": result(grid.grad),
        "gradTheta": result(theta.grad),
    }
    path = OUT / f"sampler_{name}.json"
    path.write_text(json.dumps(case, separators=(",", ":")) + "\n")
    coords = grid.detach()
    print(f"{path.name}: {path.stat().st_size} bytes, grid range "
          f"[{coords.min().item():.2f}, {coords.max().item():.2f}]")


def main():
    torch.set_printoptions(precision=10)
    OUT.mkdir(parents=True, exist_ok=True)
    cases = [
        ("affine_zeros", "affine", "zeros", False),
        ("affine_border", "affine", "border", False),
        ("attention_zeros", "attention", "zeros", False),
        ("attention_border", "attention", "border", False),
        ("zoomout_zeros", "attention", "zeros", True),
        ("zoomout_border", "affine", "border", True),
        ("projective_zeros", "projective", "zeros", False),
        ("projective_border", "projective", "border", False),
    ]
    for seed, (name, kind, padding, zoom) in enumerate(cases):
        make_case(name, kind, padding, zoom, seed=1000 + seed)


if __name__ == "__main__":
    main()

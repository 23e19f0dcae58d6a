#!/usr/bin/env python3
"""Reference vectors from PyTorch for STNCore's layer tests.

Writes Tests/STNCoreTests/Fixtures/layers_reference.safetensors with the Python
`safetensors` package (so the fixture also proves that a file written by Python loads in
Swift). Every case is computed in float64 and stored as float32:

  <case>.input, <case>.weight, <case>.bias   the layer's input and parameters
  <case>.output                              forward
  <case>.grad_output                         a random upstream gradient
  <case>.grad_input, .grad_weight, .grad_bias  backward of sum(output * grad_output)

`__metadata__` maps each case name to a JSON string with its configuration, e.g.
{"kind": "conv2d", "stride": 2, "padding": 1}.

It also exports a small ST-CNN built in PyTorch (nn.Sequential `loc`, `fc_loc`,
`classifier`, as STNCore names them) as a model file with STNCore's `__metadata__`
(stn_model_reference.safetensors), and, in stn_model_expected.safetensors, 8-bit inputs
with PyTorch's θ and class scores for them. Not run by CI; rerun by hand:

    python3 pipelines/reference/layers_reference.py
"""
import json
import pathlib

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "STNCoreTests" / "Fixtures" / "layers_reference.safetensors"

torch.manual_seed(20151)
tensors, metadata = {}, {}


def record(name, config, **named):
    metadata[name] = json.dumps(config, sort_keys=True)
    for key, value in named.items():
        tensors[f"{name}.{key}"] = value.detach().to(torch.float32).contiguous()


def conv_case(name, n, cin, h, w, cout, k, stride, padding):
    x = torch.randn(n, cin, h, w, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(cout, cin, k, k, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(cout, dtype=torch.float64, requires_grad=True)
    y = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    gy = torch.randn_like(y)
    (y * gy).sum().backward()
    record(name, {"kind": "conv2d", "stride": stride, "padding": padding, "kernel_size": k},
           input=x, weight=weight, bias=bias, output=y, grad_output=gy,
           grad_input=x.grad, grad_weight=weight.grad, grad_bias=bias.grad)


def linear_case(name, n, fin, fout):
    x = torch.randn(n, fin, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(fout, fin, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(fout, dtype=torch.float64, requires_grad=True)
    y = F.linear(x, weight, bias)
    gy = torch.randn_like(y)
    (y * gy).sum().backward()
    record(name, {"kind": "linear"}, input=x, weight=weight, bias=bias, output=y, grad_output=gy,
           grad_input=x.grad, grad_weight=weight.grad, grad_bias=bias.grad)


def pool_case(name, n, c, h, w, k, stride):
    x = torch.randn(n, c, h, w, dtype=torch.float64, requires_grad=True)
    y = F.max_pool2d(x, k, stride)
    gy = torch.randn_like(y)
    (y * gy).sum().backward()
    record(name, {"kind": "max_pool2d", "kernel_size": k, "stride": stride},
           input=x, output=y, grad_output=gy, grad_input=x.grad)


conv_case("conv_plain", 2, 3, 9, 8, 4, 3, 1, 0)
conv_case("conv_stride2_pad1", 2, 2, 9, 10, 3, 3, 2, 1)
conv_case("conv_k5_pad2", 1, 1, 7, 7, 5, 5, 1, 2)
conv_case("conv_k7_tutorial", 2, 1, 12, 12, 8, 7, 1, 0)
linear_case("linear_small", 3, 7, 5)
linear_case("linear_wide", 4, 90, 32)
pool_case("pool_2x2", 2, 3, 8, 8, 2, 2)
pool_case("pool_odd_floor", 1, 2, 11, 9, 2, 2)
pool_case("pool_3s2_overlap", 2, 2, 9, 9, 3, 2)


def soft_argmax_case(name, n, c, h, w):
    """Spatial soft-argmax as LayerSpec documents it: softmax per plane, expected pixel centre."""
    x = (3 * torch.randn(n, c, h, w, dtype=torch.float64)).requires_grad_()
    p = torch.softmax(x.flatten(2), dim=-1).view_as(x)
    xs = (2 * torch.arange(w, dtype=torch.float64) + 1) / w - 1
    ys = (2 * torch.arange(h, dtype=torch.float64) + 1) / h - 1
    y = torch.stack(((p.sum(2) * xs).sum(-1), (p.sum(3) * ys).sum(-1)), -1).flatten(1)
    gy = torch.randn_like(y)
    (y * gy).sum().backward()
    record(name, {"kind": "spatial_soft_argmax"}, input=x, output=y, grad_output=gy, grad_input=x.grad)


soft_argmax_case("soft_argmax_square", 2, 3, 6, 6)
soft_argmax_case("soft_argmax_wide", 1, 2, 4, 9)

OUT.parent.mkdir(parents=True, exist_ok=True)
save_file(tensors, str(OUT), metadata=metadata)
print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(tensors)} tensors)")


# ---- A model file exported from PyTorch -------------------------------------------------
import torch.nn as nn


class STCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.loc = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2, 2), nn.ReLU(),
                                 nn.Conv2d(4, 6, 3), nn.MaxPool2d(2, 2), nn.ReLU())
        self.fc_loc = nn.Sequential(nn.Linear(6 * 2 * 2, 8), nn.ReLU(), nn.Linear(8, 6))
        self.classifier = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2, 2), nn.ReLU(),
                                        nn.Flatten(), nn.Linear(4 * 5 * 5, 3))
        with torch.no_grad():  # near the identity, but not at it, so θ depends on the input
            self.fc_loc[2].weight.mul_(0.3)
            self.fc_loc[2].bias.copy_(torch.tensor([0.8, 0.1, 0.05, -0.1, 0.9, -0.05]))

    def theta(self, x):
        return self.fc_loc(self.loc(x).flatten(1)).view(-1, 2, 3)

    def forward(self, x):
        theta = self.theta(x)
        grid = F.affine_grid(theta, [x.shape[0], 1, 12, 12], align_corners=False)
        return self.classifier(F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False))


model = STCNN().double().eval()
mean, std = 0.5, 0.25
model_metadata = {
    "format": "stn-video-model",
    "format_version": "1",
    "transform": "affine",
    "tps_control_grid_size": "4",
    "padding": "zeros",
    "localisation": json.dumps({"layers": [
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 1, "padding": 0},
        {"type": "max_pool2d", "kernel_size": 2, "stride": 2}, {"type": "relu"},
        {"type": "conv2d", "out_channels": 6, "kernel_size": 3, "stride": 1, "padding": 0},
        {"type": "max_pool2d", "kernel_size": 2, "stride": 2}, {"type": "relu"}], "regressor_hidden": [8]}),
    "localisation_input": json.dumps({"height": 16, "width": 16, "channels": 1, "mean": [mean], "std": [std]}),
    "glimpse": json.dumps({"height": 12, "width": 12}),
    "classifier": json.dumps({"layers": [
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "max_pool2d", "kernel_size": 2, "stride": 2},
        {"type": "relu"}, {"type": "flatten"}, {"type": "linear", "out_features": 3}]}),
}
state = {k: v.to(torch.float32).contiguous() for k, v in model.state_dict().items()}
save_file(state, str(OUT.parent / "stn_model_reference.safetensors"), metadata=model_metadata)

pixels = torch.randint(0, 256, (3, 1, 16, 16), dtype=torch.uint8)
x = (pixels.double() / 255 - mean) / std
with torch.no_grad():
    expected = {"pixels": pixels.to(torch.float32), "theta": model.theta(x).reshape(3, 6).to(torch.float32),
                "logits": model(x).to(torch.float32)}
save_file(expected, str(OUT.parent / "stn_model_expected.safetensors"))
print("wrote stn_model_reference.safetensors and stn_model_expected.safetensors")

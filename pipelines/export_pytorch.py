#!/usr/bin/env python3
"""Bring your own model: the stn-video STN architecture in PyTorch, and an exporter to our
safetensors model format (DESIGN.md §3).

    # in your training code
    from export_pytorch import SpatialTransformer, export
    stn = SpatialTransformer(transform="attention", input_size=64, localisation=[...], regressor_hidden=[32])
    ... train stn (and your classifier on its glimpses) ...
    export(stn, "mine.safetensors", glimpse=(32, 32))
    # then: stn-video --model mine.safetensors in.mp4 out.mp4

    python3 pipelines/export_pytorch.py check [--stn-video PATH]
        exports a random model (a conv localisation net, the keypoint one with a spatial
        soft-argmax, and the keypoint one reading a locally contrast-normalised input), runs
        stn-video on frames made for it, and checks that the θ in
        stn-video's log equals PyTorch's θ on the same frames (max abs difference ≤ 1e-4).
        Exits 0 on success, 1 on a mismatch, 77 when torch or safetensors is not installed.

Layouts are PyTorch's (conv [out, in, kh, kw], linear [out, in]); names are the state_dict's:
`loc.N.*` (the localisation convolutions), `fc_loc.N.*` (the regressor: linear, relu, …, linear
to θ), and optionally `classifier.N.*`. The localisation network reads one luminance channel,
(pixel/255 − mean)/std, of the square canvas downscaled to input_size×input_size; with
local_contrast=(radius, floor) it reads local_contrast_normalise(pixel/255) instead.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import torch
    from torch import nn
    from safetensors.torch import save_file
except ImportError as error:  # pragma: no cover
    if __name__ == "__main__":
        print(f"SKIP: PyTorch export check needs torch and safetensors ({error})", file=sys.stderr)
        sys.exit(77)
    if getattr(error, "name", None) != "safetensors":
        raise
    save_file = None  # load() needs only torch; export() says what is missing

PARAMETER_COUNT = {"attention": 3, "affine": 6, "projective": 8}
IDENTITY = {"attention": [1.0, 0.0, 0.0], "affine": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            "projective": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]}
DEFAULT_LOCALISATION = [
    {"type": "conv2d", "out_channels": 8, "kernel_size": 5, "stride": 1, "padding": 2},
    {"type": "max_pool2d", "kernel_size": 2, "stride": 2},
    {"type": "relu"},
    {"type": "conv2d", "out_channels": 16, "kernel_size": 5, "stride": 1, "padding": 2},
    {"type": "max_pool2d", "kernel_size": 2, "stride": 2},
    {"type": "relu"},
    {"type": "conv2d", "out_channels": 16, "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "max_pool2d", "kernel_size": 2, "stride": 2},
    {"type": "relu"},
]


class SpatialSoftArgmax(nn.Module):
    """[N, C, H, W] → [N, 2C]: per channel, the expected pixel centre (x, y) under the softmax
    of its map, in normalised coordinates (align_corners=False): stn-video's spatial_soft_argmax."""

    def forward(self, x):
        h, w = x.shape[-2:]
        p = torch.softmax(x.flatten(2), dim=-1).view_as(x)
        xs = (2 * torch.arange(w, dtype=x.dtype, device=x.device) + 1) / w - 1
        ys = (2 * torch.arange(h, dtype=x.dtype, device=x.device) + 1) / h - 1
        return torch.stack(((p.sum(2) * xs).sum(-1), (p.sum(3) * ys).sum(-1)), -1).flatten(1)

# The bundled model's keypoint localisation net (VideoLocalisationNet.keypoints in Swift).
KEYPOINT_LOCALISATION = [
    {"type": "conv2d", "out_channels": 16, "kernel_size": 5, "stride": 1, "padding": 2},
    {"type": "max_pool2d", "kernel_size": 2, "stride": 2},
    {"type": "relu"},
    {"type": "conv2d", "out_channels": 32, "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "max_pool2d", "kernel_size": 2, "stride": 2},
    {"type": "relu"},
    {"type": "conv2d", "out_channels": 32, "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "relu"},
    {"type": "conv2d", "out_channels": 32, "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "spatial_soft_argmax"},
]

# The same net with one more pooling stage and three convolutions: keypoint maps that each see
# 80 px of a 96×96 input (VideoLocalisationNet.keypointsContext in Swift).
KEYPOINT_CONTEXT_LOCALISATION = KEYPOINT_LOCALISATION[:-1] + [
    {"type": "relu"},
    {"type": "max_pool2d", "kernel_size": 2, "stride": 2},
    {"type": "conv2d", "out_channels": 32, "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "relu"},
    {"type": "conv2d", "out_channels": 32, "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "relu"},
    {"type": "conv2d", "out_channels": 32, "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "spatial_soft_argmax"},
]


def build_layers(specs, channels):
    """nn.Sequential from our layer specs (the JSON in the model's metadata)."""
    layers = []
    for spec in specs:
        kind = spec["type"]
        if kind == "conv2d":
            layers.append(nn.Conv2d(channels, spec["out_channels"], spec["kernel_size"],
                                    spec.get("stride", 1), spec.get("padding", 0)))
            channels = spec["out_channels"]
        elif kind == "max_pool2d":
            layers.append(nn.MaxPool2d(spec["kernel_size"], spec.get("stride", spec["kernel_size"])))
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "dropout":
            layers.append(nn.Dropout(spec["p"]))
        elif kind == "dropout2d":
            layers.append(nn.Dropout2d(spec["p"]))
        elif kind == "flatten":
            layers.append(nn.Flatten())
        elif kind == "instance_norm2d":
            layers.append(nn.InstanceNorm2d(channels, eps=spec["eps"]))
        elif kind == "spatial_soft_argmax":
            layers.append(SpatialSoftArgmax())
        else:
            raise ValueError(f"layer type {kind!r} has no PyTorch counterpart here")
    return nn.Sequential(*layers)


def local_contrast_normalise(x, radius, floor, mix=0.0, mean=0.0, std=1.0):
    """stn-video's `LocalContrast`: μ = box(x), (x − μ) / sqrt(box((x − μ)²) + floor²), box the mean
    over a (2·radius + 1)² window with edges replicated, plus mix · (x − mean)/std.
    x: [N, 1, H, W] in [0, 1]."""
    def box(v):
        padded = nn.functional.pad(v, (radius, radius, radius, radius), mode="replicate")
        return nn.functional.avg_pool2d(padded, 2 * radius + 1, stride=1)
    deviation = x - box(x)
    return deviation / torch.sqrt(box(deviation * deviation) + floor * floor) + mix * (x - mean) / std


class SpatialTransformer(nn.Module):
    """Localisation network → θ, named as stn-video names it. Regressor starts at the identity."""

    def __init__(self, transform="attention", input_size=64, localisation=None, regressor_hidden=(32,),
                 mean=0.5, std=0.5, local_contrast=None):
        super().__init__()
        if transform not in PARAMETER_COUNT:
            raise ValueError(f"transform {transform!r}: stn-video samples attention, affine or projective")
        self.transform, self.input_size = transform, input_size
        self.localisation_specs = list(localisation or DEFAULT_LOCALISATION)
        self.regressor_hidden = list(regressor_hidden)
        self.mean, self.std = float(mean), float(std)
        self.local_contrast = None if local_contrast is None else (
            int(local_contrast[0]), float(local_contrast[1]), float(local_contrast[2]) if len(local_contrast) > 2 else 0.0)
        self.loc = build_layers(self.localisation_specs, 1)
        with torch.no_grad():
            features = self.loc(torch.zeros(1, 1, input_size, input_size)).numel()
        layers, width = [], features
        for hidden in self.regressor_hidden:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, PARAMETER_COUNT[transform]))
        self.fc_loc = nn.Sequential(*layers)
        nn.init.zeros_(self.fc_loc[-1].weight)
        with torch.no_grad():
            self.fc_loc[-1].bias.copy_(torch.tensor(IDENTITY[transform]))

    def forward(self, luma_uint8):
        """luma_uint8: [N, 1, H, W] in 0…255 → θ [N, P]."""
        if self.local_contrast is not None:
            x = local_contrast_normalise(luma_uint8.float() / 255, *self.local_contrast, self.mean, self.std)
        else:
            x = (luma_uint8.float() / 255 - self.mean) / self.std
        return self.fc_loc(torch.flatten(self.loc(x), 1))


def metadata(stn, glimpse=(32, 32), classifier=None, class_names=None):
    """The `__metadata__` stn-video validates (DESIGN.md §3). `class_names`: one per class score;
    a class named "no item" gives the log's presence column (1 - its probability)."""
    localisation_input = {"height": stn.input_size, "width": stn.input_size, "channels": 1,
                          "mean": [stn.mean], "std": [stn.std]}
    if stn.local_contrast is not None:
        radius, floor, mix = stn.local_contrast
        localisation_input["local_contrast"] = {"radius": radius, "floor": floor, **({"mix": mix} if mix else {})}
    meta = {
        "format": "stn-video-model",
        "format_version": "1",
        "transform": stn.transform,
        "tps_control_grid_size": "4",
        "localisation": json.dumps({"layers": stn.localisation_specs, "regressor_hidden": stn.regressor_hidden}),
        "localisation_input": json.dumps(localisation_input),
        "glimpse": json.dumps({"height": glimpse[0], "width": glimpse[1]}),
        "padding": "zeros",
    }
    if classifier is not None:
        meta["classifier"] = json.dumps({"layers": classifier})
        if class_names is not None:
            meta["class_names"] = json.dumps(list(class_names))
    return meta


def export(stn, path, glimpse=(32, 32), classifier_module=None, classifier_specs=None, class_names=None):
    """Writes `stn` (and optionally a classifier named `classifier.N.*`) as an stn-video model file."""
    if save_file is None:
        raise ImportError("export needs the safetensors package")
    tensors = {name: t.detach().to(torch.float32).contiguous() for name, t in stn.state_dict().items()}
    if classifier_module is not None:
        tensors.update({f"classifier.{name}": t.detach().to(torch.float32).contiguous()
                        for name, t in classifier_module.state_dict().items()})
    with_classifier = classifier_module is not None
    save_file(tensors, path, metadata=metadata(stn, glimpse, classifier_specs if with_classifier else None,
                                               class_names if with_classifier else None))


def load(path):
    """The localisation network of an stn-video model file as a SpatialTransformer in eval mode
    (its `loc.*` and `fc_loc.*` tensors; a classifier is left out). Reads the safetensors layout
    directly (DESIGN.md §3), so it needs only torch."""
    with open(path, "rb") as f:
        length = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(length))
        data = f.read()
    meta = header.pop("__metadata__")
    if meta.get("format") != "stn-video-model":
        raise ValueError(f"{path}: not an stn-video model")
    layers = json.loads(meta["localisation"])
    size = json.loads(meta["localisation_input"])
    if size["channels"] != 1 or size["height"] != size["width"]:
        raise ValueError(f"{path}: the localisation input must be square luminance")
    contrast = size.get("local_contrast")
    stn = SpatialTransformer(meta["transform"], size["height"], layers["layers"], layers["regressor_hidden"],
                             size["mean"][0], size["std"][0],
                             None if contrast is None else (contrast["radius"], contrast["floor"], contrast.get("mix", 0.0)))
    state = {}
    for name, entry in header.items():
        if name.startswith(("loc.", "fc_loc.")):
            if entry["dtype"] != "F32":
                raise ValueError(f"{path}: {name} is {entry['dtype']}, not F32")
            start, end = entry["data_offsets"]
            state[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).view(entry["shape"])
    stn.load_state_dict(state)  # strict: every tensor present, every shape right
    return stn.eval()


def write_y4m(path, frames):
    """Full-range 4:2:0 y4m of luma frames [N, H, W] uint8 (grey chroma)."""
    n, h, w = frames.shape
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL\n".encode())
        chroma = bytes([128]) * (((w + 1) // 2) * ((h + 1) // 2))
        for frame in frames:
            f.write(b"FRAME\n" + frame.numpy().tobytes() + chroma + chroma)


def check(stn_video, localisation=None, frames=24, size=64, seed=1, local_contrast=None):
    torch.manual_seed(seed)
    stn = SpatialTransformer("attention", input_size=size, localisation=localisation, local_contrast=local_contrast)
    with torch.no_grad():  # a random, non-identity regressor, so θ varies from frame to frame
        for p in stn.fc_loc[-1].parameters():
            p.normal_(0, 0.3)
        stn.fc_loc[-1].bias.copy_(torch.tensor([0.6, 0.1, -0.2]))
        if isinstance(stn.loc[-1], SpatialSoftArgmax):
            # Features that survive a deep random stack (PyTorch's default init halves their
            # spread at each layer) and peaky last maps: keypoints that move with content.
            for layer in stn.loc:
                if isinstance(layer, nn.Conv2d):
                    layer.weight.mul_(2)
            stn.loc[-2].weight.mul_(10)
    stn.eval()
    # Smooth random shapes rather than white noise: θ must respond to content.
    base = torch.rand(frames, 1, size // 8, size // 8)
    luma = (nn.functional.interpolate(base, size=(size, size), mode="bilinear", align_corners=False)[:, 0] * 255)
    luma = luma.round().clamp(0, 255).to(torch.uint8)
    with tempfile.TemporaryDirectory() as work:
        model, video = os.path.join(work, "model.safetensors"), os.path.join(work, "in.y4m")
        out, log = os.path.join(work, "out.y4m"), os.path.join(work, "out.csv")
        export(stn, model)
        write_y4m(video, luma)
        result = subprocess.run([stn_video, "--quiet", "--model", model, "--smoothing", "none", "--cut-threshold", "0",
                                 "--size", f"{size}x{size}", "--codec", "rawvideo", "--log", log, video, out],
                                capture_output=True, text=True)
        if result.returncode != 0:
            print(f"stn-video failed ({result.returncode}): {result.stderr}", file=sys.stderr)
            return 1
        rows = [line.split(",") for line in open(log).read().splitlines()[1:]]
    ours = torch.tensor([[float(v) for v in row[2:5]] for row in rows], dtype=torch.float64)
    with torch.no_grad():
        theirs = stn(luma[:, None]).to(torch.float64)
    if ours.shape != theirs.shape:
        print(f"log has {ours.shape[0]} rows for {frames} frames", file=sys.stderr)
        return 1
    difference = (ours - theirs).abs().max().item()
    spread = theirs.std(dim=0).max().item()
    name = {id(KEYPOINT_LOCALISATION): "keypoint", id(KEYPOINT_CONTEXT_LOCALISATION): "keypoint-context"}.get(
        id(localisation), "conv")
    name += f" {size}×{size}"
    if local_contrast is not None:
        name += f", local contrast {local_contrast}"
    print(f"{name} localisation, θ over {frames} frames: max |stn-video − PyTorch| = {difference:.2e} "
          f"(θ spread across frames {spread:.3f})")
    return 0 if difference <= 1e-4 and spread > 1e-3 else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "check":
        print(__doc__)
        sys.exit(2)
    stn_video = args[args.index("--stn-video") + 1] if "--stn-video" in args else os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".build", "debug", "stn-video")
    sys.exit(max(check(stn_video), check(stn_video, KEYPOINT_LOCALISATION),
                 check(stn_video, KEYPOINT_LOCALISATION, local_contrast=(6, 0.1, 1.0)),
                 check(stn_video, KEYPOINT_CONTEXT_LOCALISATION, size=96)))

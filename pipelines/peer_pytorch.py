#!/usr/bin/env python3
"""stn-video's main job as a Python user would script it with PyTorch and OpenCV: the benchmark
peer of pipelines/bench_pipeline.py --peer.

    python3 pipelines/peer_pytorch.py IN OUT [--size 256x256] [--model FILE] [--threads 2] [--batch 8]
                                             [--smoothing one-euro|none]

OpenCV decodes IN to BGR frames. Per frame, the localisation input is made as stn-video makes it
(DESIGN.md §2): the frame's luminance, area-downscaled and centred on black in a square of the
model's input side (the square canvas). The model's localisation network (built from the model
file by export_pytorch.load) reads --batch frames at once and gives the attention θ = (s, tx, ty);
a one-euro filter (stn-video's default settings, on log s, tx, ty) smooths it; grid_sample
(bilinear, align_corners=False, zeros padding) reads the crop from the full-resolution frame; an
ffmpeg subprocess encodes the crops from a pipe (libx264 veryfast, crf 23, yuv420p). θ per frame
goes to OUT with its extension replaced by .params.csv (frame,s,tx,ty: the θ used).

Not done, unlike stn-video: the glimpse classifier, scene cuts, the virtual camera (the window
may leave the frame; outside is black), audio. The network is the same to float rounding, but its
input is not bit-exact: OpenCV's own FFmpeg may decode differently, its BGR conversion rounds and
clips (below-black luma is lost before the average, where stn-video averages then expands the
range), and cv2.INTER_AREA rounds unlike libswscale's area filter. The model's θ moves with
one-level changes of its input, so compare with --smoothing none against stn-video's raw θ. Exits 0 with one line "skipped: …" when torch or
OpenCV does not import, so that benchmarks skip it visibly.
"""
import argparse
import math
import os
import subprocess
import sys
from fractions import Fraction

# Sleeping rather than spinning OpenMP workers: on a busy machine spinning ones doubled the run
# time (vtest.avi, 2 cores, load 4: 29.8 s spinning, 13.9 s passive).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:
    import cv2
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as error:
    print(f"skipped: peer_pytorch.py needs torch, numpy and OpenCV ({error})", file=sys.stderr)
    sys.exit(0)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_pytorch import load  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNDLED = os.path.join(ROOT, "samples", "model", "attention-fashion.safetensors")


class OneEuro:
    """The 1€ filter (Casiez et al., CHI 2012) per parameter, as stn-video runs it: speed from
    consecutive samples, cutoff min_cutoff + beta·|speed|, on (log s, tx, ty)."""

    def __init__(self, rate, min_cutoff=0.5, beta=4.0, d_cutoff=1.0):
        self.rate, self.min_cutoff, self.beta = rate, min_cutoff, beta
        self.d_alpha = self.alpha(d_cutoff)
        self.value = None

    def alpha(self, cutoff):
        r = 2 * math.pi * cutoff / self.rate
        return r / (r + 1)

    def __call__(self, theta):
        x = np.array([math.log(max(theta[0], 1e-6)), theta[1], theta[2]])
        if self.value is None:
            self.value, self.speed, self.last = x, np.zeros(3), x
        else:
            self.speed = self.speed + self.d_alpha * ((x - self.last) * self.rate - self.speed)
            self.last = x
            self.value = self.value + self.alpha(self.min_cutoff + self.beta * np.abs(self.speed)) * (x - self.value)
        return [math.exp(self.value[0]), self.value[1], self.value[2]]


def sampling_matrices(theta, w, h, out_w, out_h):
    """Attention θ on the square canvases → affine_grid's matrices on the frames themselves:
    x_frame = x_canvas · side/w (the frame is centred in the canvas), likewise for y and the output."""
    theta = torch.as_tensor(theta, dtype=torch.float32)
    s, tx, ty = theta.unbind(1)
    side, out_side = max(w, h), max(out_w, out_h)
    zero = torch.zeros_like(s)
    return torch.stack([torch.stack([s * side / w * out_w / out_side, zero, tx * side / w], 1),
                        torch.stack([zero, s * side / h * out_h / out_side, ty * side / h], 1)], 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--size", default="256x256", help="output WxH")
    parser.add_argument("--model", default=BUNDLED)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--batch", type=int, default=8, help="frames per localisation-network call")
    parser.add_argument("--smoothing", choices=["one-euro", "none"], default="one-euro")
    args = parser.parse_args()
    out_w, out_h = map(int, args.size.split("x"))
    torch.set_num_threads(args.threads)
    net = load(args.model)
    if net.transform != "attention":
        sys.exit(f"peer_pytorch.py: error: {args.model}: only attention models, not {net.transform}")
    size = net.input_size

    capture = cv2.VideoCapture(args.input)
    ok, frame = capture.read()
    if not ok:
        sys.exit(f"peer_pytorch.py: error: {args.input}: cannot open or no video frames")
    h, w = frame.shape[:2]
    rate = capture.get(cv2.CAP_PROP_FPS) or 25.0
    # Where the frame lands in the network's square input (LumaDownscaler.swift's rounding).
    scaled_w, scaled_h = max(1, round(w * size / max(w, h))), max(1, round(h * size / max(w, h)))
    left, top = (size - scaled_w) // 2, (size - scaled_h) // 2

    encoder = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{out_w}x{out_h}",
         "-framerate", str(Fraction(rate).limit_denominator(1001)), "-i", "-", "-an",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", args.output],
        stdin=subprocess.PIPE)
    log = open(os.path.splitext(args.output)[0] + ".params.csv", "w")
    log.write("frame,s,tx,ty\n")
    smooth = OneEuro(rate) if args.smoothing == "one-euro" else (lambda theta: theta)
    luma = np.zeros((args.batch, 1, size, size), np.uint8)
    pictures = torch.empty(args.batch, h, w, 3)  # the batch's frames as floats, channels last
    count, index = 0, 0

    def run_batch():
        nonlocal index
        n = count
        raw = net(torch.from_numpy(luma[:n])).double().tolist()
        used = [smooth(theta) for theta in raw]
        for theta in used:
            log.write(f"{index},{theta[0]:.8g},{theta[1]:.8g},{theta[2]:.8g}\n")
            index += 1
        grid = F.affine_grid(sampling_matrices(used, w, h, out_w, out_h), [n, 3, out_h, out_w], align_corners=False)
        crops = F.grid_sample(pictures[:n].permute(0, 3, 1, 2), grid, mode="bilinear", padding_mode="zeros",
                              align_corners=False)
        encoder.stdin.write(crops.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy())

    try:
        with torch.inference_mode():
            while ok:
                gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
                luma[count, 0, top:top + scaled_h, left:left + scaled_w] = cv2.resize(
                    gray, (scaled_w, scaled_h), interpolation=cv2.INTER_AREA)
                pictures[count].copy_(torch.from_numpy(frame))
                count += 1
                if count == args.batch:
                    run_batch()
                    count = 0
                ok, frame = capture.read()
            if count:
                run_batch()
        encoder.stdin.close()
    except BrokenPipeError:
        pass
    log.close()
    if encoder.wait() != 0:
        sys.exit(f"peer_pytorch.py: error: {args.output}: ffmpeg failed ({encoder.returncode})")


if __name__ == "__main__":
    main()

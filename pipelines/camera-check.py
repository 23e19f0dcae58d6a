#!/usr/bin/env python3
"""Measures the window path (virtual camera, inside-the-picture rule, scene cuts, collapse guard)
from stn-video's per-frame log, on real clips and on generated clips with ground truth.

    python3 pipelines/camera-check.py [--stn PATH] [--data DIR] [--seeds 3] [-- extra stn-video options]

Real clips (Debian's opencv-doc, skipped when absent):
  - vtest.avi (a static camera): mean centre motion of the used window in pixels per frame, and
    the share of frames whose used window leaves the picture (by more than half a pixel);
    the raw window's figures beside them.
  - Megamind.avi: the frames stn-video flags as cuts against those ffmpeg's scdet (t=10) flags:
    how many of scdet's are matched within ±1 frame, and how many other frames are flagged.
Generated clips (stn-make-video, t10k items, with truth): centre in box and mean IoU of the raw
and the used windows, and the frame-to-frame centre motion (jitter) of raw, used and true boxes
(frames at a cut excluded).
Every figure comes from the parameter log (raw_* and used columns) and the truth files.
"""
import argparse, csv, math, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return r


def probe_size(path):
    out = run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
               "-of", "csv=p=0", path]).stdout.strip().split(",")
    return int(out[0]), int(out[1])


def rectify(stn, clip, directory, extra):
    os.makedirs(os.path.join(directory, "out"), exist_ok=True)
    out = os.path.join(directory, "out", os.path.splitext(os.path.basename(clip))[0] + ".mp4")
    run([stn, "--quiet", "--preset", "ultrafast"] + extra + [clip, out])
    with open(out[:-4] + ".params.csv") as f:
        return list(csv.DictReader(f))


def window(row, prefix):
    return float(row[prefix + "s"]), float(row[prefix + "tx"]), float(row[prefix + "ty"])


def motion_and_outside(rows, width, height, prefix):
    """Mean centre motion (px/frame, cut frames excluded) and the share of frames outside the picture."""
    side = max(width, height)
    px = side / 2  # pixels per normalised unit on the square canvas
    hw, hh = width / side, height / side
    steps, outside = [], 0
    for i, row in enumerate(rows):
        s, tx, ty = window(row, prefix)
        tolerance = 0.5 / px
        if abs(tx) + abs(s) > hw + tolerance or abs(ty) + abs(s) > hh + tolerance:
            outside += 1
        if i > 0 and row["scene_cut"] != "1":
            _, px0, py0 = window(rows[i - 1], prefix)
            steps.append(math.hypot(tx - px0, ty - py0) * px)
    return sum(steps) / max(len(steps), 1), outside / len(rows)


def scdet_cuts(clip):
    err = run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", clip, "-vf",
               "scdet=t=10,metadata=mode=print:key=lavfi.scd.time", "-f", "null", "-"]).stderr
    # metadata=print logs "frame:N pts:… pts_time:…" before each flagged frame's key.
    frames, last = [], None
    for line in err.splitlines():
        m = re.search(r"frame:(\d+)\s", line)
        if m:
            last = int(m.group(1))
        if "lavfi.scd.time" in line and last is not None:
            frames.append(last)
    return sorted(set(frames))


def score_truth(rows, truth, prefix):
    inside = iou = 0.0
    for w, b in zip(rows, truth):
        s, tx, ty = window(w, prefix)
        s = abs(s)
        cx, cy, h = float(b["canvas_cx"]), float(b["canvas_cy"]), float(b["canvas_half_side"])
        if abs(tx - cx) <= h and abs(ty - cy) <= h:
            inside += 1
        ix = max(0, min(tx + s, cx + h) - max(tx - s, cx - h))
        iy = max(0, min(ty + s, cy + h) - max(ty - s, cy - h))
        iou += ix * iy / (4 * s * s + 4 * h * h - ix * iy)
    return inside / len(rows), iou / len(rows)


def jitter(points, cuts):
    steps = [math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1])
             for i in range(1, len(points)) if not cuts[i]]
    return sum(steps) / max(len(steps), 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stn", default=os.path.join(ROOT, ".build", "release", "stn-video"))
    parser.add_argument("--make-video", default=os.path.join(ROOT, ".build", "release", "stn-make-video"))
    parser.add_argument("--data", default="/usr/share/doc/opencv-doc/examples/data")
    parser.add_argument("--seeds", type=int, default=9, help="generated clips (seeds 31, 32, …)")
    parser.add_argument("extra", nargs="*", help="stn-video options (after --)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        vtest = os.path.join(args.data, "vtest.avi")
        if os.path.exists(vtest):
            rows = rectify(args.stn, vtest, directory, args.extra)
            w, h = probe_size(vtest)
            used = motion_and_outside(rows, w, h, "")
            raw = motion_and_outside(rows, w, h, "raw_")
            print(f"vtest.avi ({len(rows)} frames): used window: centre motion {used[0]:.2f} px/frame, "
                  f"outside the picture {100 * used[1]:.1f} % of frames (targets ≤ 1.0, ≤ 1 %); "
                  f"raw window: {raw[0]:.2f} px/frame, {100 * raw[1]:.1f} %")
        else:
            print(f"vtest.avi: not found under {args.data} (apt-get install opencv-doc)")
        megamind = os.path.join(args.data, "Megamind.avi")
        if os.path.exists(megamind):
            rows = rectify(args.stn, megamind, directory, args.extra)
            ours = [int(r["frame"]) for r in rows if r["scene_cut"] == "1"]
            theirs = [f for f in scdet_cuts(megamind) if f > 1]  # scdet's frame 1 is the stream's start
            matched = [f for f in theirs if any(abs(f - o) <= 1 for o in ours)]
            others = [o for o in ours if not any(abs(f - o) <= 1 for f in theirs)]
            w, h = probe_size(megamind)
            used = motion_and_outside(rows, w, h, "")
            print(f"Megamind.avi ({len(rows)} frames): scdet cuts {theirs}, stn-video cuts {ours}: "
                  f"{len(matched)}/{len(theirs)} matched within ±1 frame, {len(others)} other frame(s) flagged {others} "
                  f"(target: all, ≤ 1); used window {used[0]:.2f} px/frame, outside {100 * used[1]:.1f} %; "
                  f"smallest used s {min(abs(float(r['s'])) for r in rows):.3f}, smallest raw s "
                  f"{min(abs(float(r['raw_s'])) for r in rows):.3f}")
        else:
            print(f"Megamind.avi: not found under {args.data}")
        if not os.path.exists(args.make_video) or not os.path.isdir("/usr/share/datasets/fashion-mnist"):
            print("generated clips: stn-make-video or Fashion-MNIST missing")
            return
        totals = {"raw": [0, 0], "used": [0, 0]}
        jit = {"raw": 0.0, "used": 0.0, "truth": 0.0}
        for k in range(args.seeds):
            seed = 31 + k
            clip = os.path.join(directory, f"synthetic-{seed}.mp4")
            run([args.make_video, "--seconds", "8", "--size", ["640x360", "480x480", "360x640"][k % 3],
                 "--seed", str(seed), "--preset", "ultrafast", clip])
            rows = rectify(args.stn, clip, directory, args.extra)
            with open(clip[:-4] + ".truth.csv") as f:
                truth = list(csv.DictReader(f))
            cuts = [r["scene_cut"] == "1" or t["scene_cut"] == "1" for r, t in zip(rows, truth)]
            for prefix, name in (("raw_", "raw"), ("", "used")):
                c, i = score_truth(rows, truth, prefix)
                totals[name][0] += c / args.seeds
                totals[name][1] += i / args.seeds
                jit[name] += jitter([window(r, prefix)[1:] for r in rows], cuts) / args.seeds
            jit["truth"] += jitter([(float(t["canvas_cx"]), float(t["canvas_cy"])) for t in truth], cuts) / args.seeds
        print(f"generated clips ({args.seeds} × 8 s): centre in box raw {100 * totals['raw'][0]:.1f} %, used "
              f"{100 * totals['used'][0]:.1f} %; mean IoU raw {totals['raw'][1]:.3f}, used {totals['used'][1]:.3f} "
              f"(target: used ≥ raw − 1 point)")
        print(f"  centre motion per frame (canvas units): raw {jit['raw']:.4f}, used {jit['used']:.4f}, true {jit['truth']:.4f}: "
              f"used/raw {jit['used'] / jit['raw']:.2f} (target ≤ 0.3), used/true {jit['used'] / jit['truth']:.2f} (or ≤ 1.5)")


if __name__ == "__main__":
    main()

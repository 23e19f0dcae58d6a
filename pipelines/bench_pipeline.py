#!/usr/bin/env python3
"""Benchmark of the main job: stn-video against FFmpeg, side by side. The one place that makes
the benchmark clips and times whole runs (pipelines/bench-fixed.sh is its --theta mode).

    python3 pipelines/bench_pipeline.py [--runs 3] [--seconds 10] [--sizes 1920x1080,640x480]
                                        [--clip PATH]... [--peer] [--stn-video BINARY]

For each size, an H.264 clip at 30 fps (generated: testsrc2 with noise), and each --clip (a real
video, timed whole), times, alternating, several runs of
  - stn-video IN OUT (bundled model, 256x256, libx264 veryfast, one-euro smoothing), or with
    --theta S,TX,TY a fixed attention window instead of the model
  - ffmpeg with the same window as crop,pad,scale to 256x256 (the centred square of the frame
    for the model) and the same encoder settings
  - ffmpeg -f null (decode only: the limit)
  - with --peer, pipelines/peer_pytorch.py (the same job scripted with PyTorch and OpenCV, model
    only, torch threads one per core like stn-video's; skipped, with a line saying why, when torch
    or cv2 does not import)
and prints the median fps and the ratios. Then compares the peak RSS of stn-video on a
3000-frame and a 300-frame run (memory must not grow with the video's length).

    --baseline PATH   also times another stn-video build (say, the previous commit's) in the
                      same alternation, for an A/B ratio on the same machine state
    --stn-video PATH  times this stn-video binary instead of building this checkout's
"""
import argparse, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STN = os.path.join(ROOT, ".build", "release", "stn-video")
PEER = os.path.join(ROOT, "pipelines", "peer_pytorch.py")


def run(cmd):
    """Runs cmd; returns (seconds, peak RSS in MiB of the process itself)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return elapsed, usage.ru_maxrss / 1024


def make_clip(path, size, seconds, rate=30):
    if not os.path.exists(path):
        print(f"generating {path}", file=sys.stderr)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size={size}:rate={rate},noise=alls=12:allf=t", "-t", str(seconds),
                        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", path], check=True)


def frames(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_packets", "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def frame_size(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                          "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    return tuple(map(int, out.stdout.strip().split(",")[:2]))


def peer_missing():
    """Why the PyTorch peer cannot run here (its imports fail), or None."""
    probe = subprocess.run([sys.executable, "-c", "import cv2, numpy, torch"], capture_output=True, text=True)
    return probe.stderr.strip().splitlines()[-1] if probe.returncode else None


def fixed_window_filter(theta, w, h):
    """ffmpeg's crop,pad,scale for the attention window theta = (s, tx, ty) on the square
    canvas of a w x h frame: the part inside the frame is cropped, the rest padded black."""
    s, tx, ty = theta
    side = max(w, h)
    window = round(s * side)
    left = round((1 + tx) / 2 * side - window / 2 - (side - w) / 2)
    top = round((1 + ty) / 2 * side - window / 2 - (side - h) / 2)
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + window, w), min(top + window, h)
    return (f"crop={x1 - x0}:{y1 - y0}:{x0}:{y0},pad={window}:{window}:{x0 - left}:{y0 - top}:black,"
            f"scale=256:256:flags=bilinear")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--work", default="/tmp/stn-bench")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--model", help="model file (default: the bundled model)")
    parser.add_argument("--baseline", help="another stn-video binary to time beside this build's")
    parser.add_argument("--theta", help="a fixed attention window s,tx,ty instead of the model")
    parser.add_argument("--sizes", default="1920x1080,640x480", help="clip sizes, comma-separated WxH ('' none)")
    parser.add_argument("--clip", action="append", default=[], help="a real video to time as well (repeatable)")
    parser.add_argument("--peer", action="store_true", help="also time pipelines/peer_pytorch.py")
    parser.add_argument("--stn-video", help="the stn-video binary to time (default: build this checkout's)")
    args = parser.parse_args()
    theta = [float(v) for v in args.theta.split(",")] if args.theta else None
    os.makedirs(args.work, exist_ok=True)
    stn = args.stn_video or STN
    if not args.stn_video:
        subprocess.run(["swift", "build", "-c", "release", "--product", "stn-video"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    peer = args.peer
    if peer and theta:
        print("peer: skipped (it runs the model; --theta is a fixed window)")
        peer = False
    elif peer:
        missing = peer_missing()
        if missing:
            print(f"peer: skipped ({missing})")
            peer = False
    out = os.path.join(args.work, "out.mp4")
    model = ["--theta", args.theta] if theta else ["--model", args.model] if args.model else []
    label = f"stn-video (theta {args.theta})" if theta else "stn-video (model)"
    enc = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"]
    clips = []
    for size in filter(None, args.sizes.split(",")):
        clip = os.path.join(args.work, f"clip-{size}-{args.seconds}s.mp4")
        make_clip(clip, size, args.seconds)
        clips.append((size, clip))
    clips += [(os.path.basename(path), path) for path in args.clip]
    for title, clip in clips:
        n = frames(clip)
        w, h = frame_size(clip)
        side = min(w, h)
        crop = (fixed_window_filter(theta, w, h) if theta
                else f"crop={side}:{side}:{(w - side) // 2}:{(h - side) // 2},scale=256:256:flags=bilinear")
        stn_args = ["--quiet", "--no-audio", "--size", "256x256", "--preset", "veryfast", "--crf", "23"] + model + [clip, out]
        commands = {
            label: [stn] + stn_args,
            "ffmpeg crop+scale": ["ffmpeg", "-nostdin", "-y", "-i", clip, "-an", "-vf", crop] + enc + [out],
            "ffmpeg decode only": ["ffmpeg", "-nostdin", "-i", clip, "-an", "-f", "null", "-"],
        }
        if args.baseline:
            commands["stn-video baseline"] = [args.baseline] + stn_args
        if peer:
            commands["PyTorch+OpenCV peer"] = ([sys.executable, PEER, "--size", "256x256", "--threads",
                                                str(os.cpu_count())] + model + [clip, os.path.join(args.work, "peer.mp4")])
        times = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(run(cmd)[0])
        fps = {name: n / statistics.median(t) for name, t in times.items()}
        print(f"\n{title} ({w}x{h}), {n} frames, median of {args.runs} runs:")
        for name, value in fps.items():
            print(f"  {name:20s} {value:7.1f} fps")
        print(f"  ratio vs fixed crop:   {fps[label] / fps['ffmpeg crop+scale']:.2f}")
        print(f"  ratio vs decode only:  {fps[label] / fps['ffmpeg decode only']:.2f}")
        if args.baseline:
            print(f"  baseline vs fixed crop: {fps['stn-video baseline'] / fps['ffmpeg crop+scale']:.2f}")
            print(f"  this build vs baseline: {fps[label] / fps['stn-video baseline']:.2f}")
        if peer:
            print(f"  stn-video / peer:      {fps[label] / fps['PyTorch+OpenCV peer']:.2f}")
    if not args.skip_rss:
        short = os.path.join(args.work, "rss-300.mp4")
        long = os.path.join(args.work, "rss-3000.mp4")
        for path, count in [(short, 300), (long, 3000)]:
            if not os.path.exists(path):
                subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                                "testsrc2=size=640x480:rate=30", "-frames:v", str(count), "-c:v", "libx264",
                                "-preset", "ultrafast", path], check=True)
        rss = {count: run([stn, "--quiet", "--preset", "ultrafast"] + model + [path, out])[1]
               for path, count in [(short, 300), (long, 3000)]}
        print(f"\npeak RSS: 300 frames {rss[300]:.1f} MiB, 3000 frames {rss[3000]:.1f} MiB, "
              f"ratio {rss[3000] / rss[300]:.3f}")


if __name__ == "__main__":
    main()

"""Fake upstream MuseTalk scripts/inference.py: upstream's flags, upstream's output layout."""

import argparse
import os
import re
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--ffmpeg_path", type=str, default="./ffmpeg-4.4-amd64-static/")
parser.add_argument("--gpu_id", type=int, default=0)
parser.add_argument("--vae_type", type=str, default="sd-vae")
parser.add_argument("--unet_config", type=str, default="./models/musetalk/config.json")
parser.add_argument("--unet_model_path", type=str, default="./models/musetalkV15/unet.pth")
parser.add_argument("--whisper_dir", type=str, default="./models/whisper")
parser.add_argument("--inference_config", type=str, default="configs/inference/test_img.yaml")
parser.add_argument("--bbox_shift", type=int, default=0)
parser.add_argument("--result_dir", default="./results")
parser.add_argument("--extra_margin", type=int, default=10)
parser.add_argument("--fps", type=int, default=25)
parser.add_argument("--batch_size", type=int, default=8)
parser.add_argument("--output_vid_name", type=str, default=None)
parser.add_argument("--use_saved_coord", action="store_true")
parser.add_argument("--saved_coord", action="store_true")
parser.add_argument("--use_float16", action="store_true")
parser.add_argument("--parsing_mode", default="jaw")
parser.add_argument("--version", type=str, default="v15", choices=["v1", "v15"])
args = parser.parse_args()

mode = os.environ.get("FAKE_UPSTREAM_MODE", "ok")
# upstream loads its weights by paths relative to its own folder
assert os.path.isfile(args.unet_model_path), "run from the vendor dir: " + os.getcwd()
with open(args.inference_config) as f:
    config = f.read()
video = re.search(r'video_path: "(.*)"', config)[1]
audio = re.search(r'audio_path: "(.*)"', config)[1]
print(config)
print("extracting landmarks...time consuming", flush=True)
if mode == "crash":
    print("  0%|          | 0/3 [00:00<?, ?it/s]", file=sys.stderr, flush=True)
    raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (fake)")
if mode == "noop":
    print("start inference")
    sys.exit(0)
if mode == "missing-module":
    import mmpose  # noqa: F401 - not installed where the tests run the wrapper: the import is the failure
if mode == "prompt":
    input("results exist, overwrite? (y/n) ")
if mode == "hang":
    time.sleep(600)
probe = subprocess.run(["ffmpeg", "-hide_banner", "-i", audio], capture_output=True, text=True)
h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", probe.stderr).groups()
duration = int(h) * 3600 + int(m) * 60 + float(s)
if mode == "short":
    duration /= 2
fps = 30  # upstream keeps the source video's frame rate; ours re-encodes to 25
frames = int(duration * fps)
for i in range(frames // 10):
    print(
        f" {100 * i // (frames // 10)}%|###| {i}/{frames // 10} [00:01<00:02,  2.50it/s]",
        end="\r",
        file=sys.stderr,
        flush=True,
    )
out_dir = os.path.join(args.result_dir, args.version)
os.makedirs(out_dir, exist_ok=True)
name = os.path.basename(video).split(".")[0] + "_" + os.path.basename(audio).split(".")[0]
temp = os.path.join(out_dir, "temp_" + name + ".mp4")
image_input = video.lower().endswith((".png", ".jpg", ".jpeg"))
src = ["-loop", "1", "-i", video] if image_input else ["-stream_loop", "-1", "-i", video]
subprocess.run(
    [
        "ffmpeg",
        "-y",
        "-v",
        "error",
        *src,
        "-frames:v",
        str(frames),
        "-r",
        str(fps),
        "-vf",
        "scale=160:-2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        temp,
    ],
    check=True,
)
subprocess.run(
    ["ffmpeg", "-y", "-v", "warning", "-i", audio, "-i", temp, os.path.join(out_dir, name + ".mp4")], check=True
)
os.remove(temp)
print("result is save to " + os.path.join(out_dir, name + ".mp4"))

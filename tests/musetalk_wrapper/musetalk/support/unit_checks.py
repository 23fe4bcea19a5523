"""Unit checks of the musetalk engine that need torch, run in the musetalk env by test_units.py.

``python unit_checks.py OUT.json MANIFESTS_DIR MEDIA_DIR TINY_MODELS_DIR WORK_DIR [CHECK ...]`` runs every
check (or the named ones) in one interpreter (torch imports once) and writes {name: {"ok": bool,
"error": str}} to OUT.json. Each check asserts properties of the engine's own modules.
"""
from __future__ import annotations

import json
import math
import multiprocessing
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from musetalk_wrapper.contract import EngineError, ErrorCode  # noqa: E402
from musetalk_wrapper.engines.musetalk import models as mm  # noqa: E402
from musetalk_wrapper.engines.musetalk.checkpoints import (  # noqa: E402
    load_strict,
    mismatch,
    read_state_dict,
    rename_legacy_attention,
)


@dataclass
class Ctx:
    manifests: Path
    media: Path
    tiny: Path
    work: Path


CHECKS: dict[str, Callable[[Ctx], None]] = {}


def check(fn: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
    CHECKS[fn.__name__] = fn
    return fn


def manifest(ctx: Ctx, name: str) -> dict:
    return json.loads((ctx.manifests / name).read_text())


def meta_sd(shapes: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    return {k: torch.empty(v, device="meta") for k, v in shapes.items()}


def expect_unusable(fn: Callable[[], object], *fragments: str) -> str:
    try:
        fn()
    except EngineError as err:
        assert err.code is ErrorCode.ENGINE_UNAVAILABLE, err.code
        for frag in fragments:
            assert frag in err.message, f"{frag!r} not in {err.message!r}"
        return err.message
    raise AssertionError("expected ENGINE_UNAVAILABLE")


# --- strict loading against the official manifests (meta tensors: no 3.4 GB in memory) -------------------

@check
def strict_unet_full_size(ctx: Ctx) -> None:
    from diffusers import UNet2DConditionModel

    cfg = {k: v for k, v in manifest(ctx, "unet_config.json").items() if not k.startswith("_")}
    shapes = manifest(ctx, "unet_state_dict.json")["state_dict"]
    assert len(shapes) == 686
    fake = ctx.tiny / "musetalkV15" / "unet.pth"
    unet = mm._build(UNet2DConditionModel, cfg, fake, ctx.tiny, "UNet2DConditionModel")
    load_strict(unet, meta_sd(shapes), fake, ctx.tiny, "MuseTalk UNet", materialized=False)
    assert sum(p.numel() for p in unet.parameters()) == 849_947_844
    # One missing key and one wrong shape are both reported, naming the file and the fix.
    broken = meta_sd(shapes)
    broken.pop("conv_in.bias")
    broken["conv_out.weight"] = torch.empty([4, 320, 1, 1], device="meta")
    with torch.device("meta"):
        fresh = UNet2DConditionModel(**cfg)
    expect_unusable(lambda: load_strict(fresh, broken, fake, ctx.tiny, "MuseTalk UNet", materialized=False),
                    "conv_in.bias", "conv_out.weight [4, 320, 1, 1]", "unet.pth", "huggingface-cli download")


@check
def strict_vae_both_namings(ctx: Ctx) -> None:
    man = manifest(ctx, "vae_state_dict.json")
    cfg = {k: v for k, v in manifest(ctx, "vae_config.json").items()
           if not k.startswith("_") and k != "scaling_factor"}
    fake = ctx.tiny / "sd-vae" / "config.json"
    for naming in ("state_dict", "on_disk_state_dict_legacy_names"):
        vae = mm.build_vae(cfg, fake, ctx.tiny)
        sd = rename_legacy_attention(meta_sd(man[naming]))
        load_strict(vae, sd, fake, ctx.tiny, "VAE", materialized=False)
    legacy = man["on_disk_state_dict_legacy_names"]
    assert any(".query." in k for k in legacy) and not any(".to_q." in k for k in legacy)
    assert sum(p.numel() for p in vae.parameters()) == 83_653_863
    assert mm.latent_scale(vae) == 0.18215


@check
def strict_whisper_encoder_with_model_prefix(ctx: Ctx) -> None:
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    man = manifest(ctx, "whisper_tiny_encoder_state_dict.json")
    arch = {k: v for k, v in manifest(ctx, "whisper_tiny_config.json")["architecture"].items()
            if k not in ("architectures", "torch_dtype")}
    on_disk = {"model." + k: v for k, v in {**man["encoder_state_dict"], **man["decoder_state_dict"]}.items()}
    on_disk["proj_out.weight"] = man["decoder_state_dict"]["decoder.embed_tokens.weight"]
    enc, others = mm.encoder_state_dict(meta_sd(on_disk))
    assert not others and len(enc) == 67
    with torch.device("meta"):
        encoder = WhisperEncoder(WhisperConfig(**arch))
    fake = ctx.tiny / "whisper" / "pytorch_model.bin"
    load_strict(encoder, enc, fake, ctx.tiny, "whisper encoder", materialized=False)
    assert sum(p.numel() for p in encoder.parameters()) == 8_208_384
    _, others = mm.encoder_state_dict(meta_sd({**on_disk, "lm_head.weight": [4, 4]}))
    assert others == ["lm_head.weight"]


@check
def strict_bisenet_and_resnet18_backbone(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk.bisenet import BiSeNet

    shapes = manifest(ctx, "bisenet_state_dict.json")["state_dict"]
    assert len(shapes) == 191
    with torch.device("meta"):
        net = BiSeNet()
    fake = ctx.tiny / "face-parse-bisent" / "79999_iter.pth"
    load_strict(net, meta_sd(shapes), fake, ctx.tiny, "face-parsing BiSeNet", materialized=False)
    assert sum(p.numel() for p in net.parameters()) == 13_300_416
    backbone = manifest(ctx, "resnet18_backbone_state_dict.json")
    file_sd = meta_sd(backbone["state_dict_file_namespace"])
    filtered = {k: v for k, v in file_sd.items() if "fc" not in k}
    assert len(filtered) == 100
    assert mismatch(net.cp.resnet, filtered, allow_missing=mm._backbone_allow_missing) is None
    assert mismatch(net.cp.resnet, filtered) is not None  # the file lacks num_batches_tracked: allowed only so


@check
def tiny_folder_loads_through_engine_loaders(ctx: Ctx) -> None:
    cpu = torch.device("cpu")
    mm.check_compatible(ctx.tiny)
    unet = mm.load_unet(ctx.tiny, cpu, torch.float32)
    vae = mm.load_vae(ctx.tiny, cpu, torch.float32)  # legacy attention names on disk
    encoder = mm.load_whisper_encoder(ctx.tiny, cpu, torch.float32)
    net = mm.load_bisenet(ctx.tiny, cpu)
    for module in (unet, vae, encoder, net):
        assert not any(t.is_meta for t in [*module.parameters(), *module.buffers()])
        assert not module.training
    raw = torch.load(ctx.tiny / "face-parse-bisent" / "79999_iter.pth", weights_only=True)
    assert torch.equal(net.state_dict()["conv_out.conv_out.weight"], raw["conv_out.conv_out.weight"])
    labels = net.parse(torch.zeros(2, 512, 512, 3, dtype=torch.uint8))
    assert labels.shape == (2, 512, 512) and labels.dtype == torch.uint8


# --- audio ---------------------------------------------------------------------------------------------------

@check
def whisper_features_shape_and_windows(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk.audio_features import encoder_hidden_states, frame_features

    cpu = torch.device("cpu")
    extractor = mm.load_feature_extractor(ctx.tiny)
    encoder = mm.load_whisper_encoder(ctx.tiny, cpu, torch.float32)
    audio = (0.1 * np.sin(np.arange(3 * 16000) * 2 * np.pi * 220 / 16000)).astype(np.float32)
    states = encoder_hidden_states(audio, extractor, encoder, cpu, torch.float32)
    assert tuple(states.shape) == (150, 5, 384), states.shape
    feats = frame_features(states, 75, 25)
    assert tuple(feats.shape) == (75, 50, 384)
    # 31 s of audio spans two 30 s segments
    long = np.zeros(31 * 16000, dtype=np.float32)
    assert encoder_hidden_states(long, extractor, encoder, cpu, torch.float32).shape[0] == 1550
    # Window of frame i = steps 2i-4 .. 2i+5 (zeros outside), time-major tokens (5 states per step).
    synthetic = torch.arange(1, 21, dtype=torch.float32).view(20, 1, 1).expand(20, 5, 384).clone()
    win = frame_features(synthetic, 10, 25)
    steps = win[:, ::5, 0]  # one token per step
    assert steps[0].tolist() == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]
    assert steps[3].tolist() == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert steps[9].tolist() == [15, 16, 17, 18, 19, 20, 0, 0, 0, 0]
    assert torch.equal(win[3, 5:10, 0], torch.full((5,), 4.0))


@check
def positional_encoding_values(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk.audio_features import positional_encoding

    pe = positional_encoding(50, 384)
    assert pe.shape == (50, 384)
    for p, i in ((0, 0), (7, 3), (49, 191)):
        w = math.exp(-(2 * i) * math.log(10000.0) / 384)
        assert abs(pe[p, 2 * i].item() - math.sin(p * w)) < 1e-5
        assert abs(pe[p, 2 * i + 1].item() - math.cos(p * w)) < 1e-5


@check
def silence_pauses_of_150ms(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk.silence import silent_frames

    sr = 16000
    rng = np.random.default_rng(0)
    tone = lambda s: (0.3 * np.sin(np.arange(int(s * sr)) * 2 * np.pi * 180 / sr)).astype(np.float32)  # noqa: E731
    hiss = lambda s: (0.001 * rng.standard_normal(int(s * sr))).astype(np.float32)  # noqa: E731
    # 1 s speech, 400 ms pause, 1 s speech, 100 ms pause (too short), 1 s speech
    audio = np.concatenate([tone(1.0), hiss(0.4), tone(1.0), hiss(0.1), tone(1.0)])
    flags = silent_frames(audio, sr, 88, 25)
    assert flags[26:34].all(), np.nonzero(flags)[0]  # 1.04 .. 1.36 s lies inside the pause
    assert not flags[:25].any() and not flags[36:].any(), np.nonzero(flags)[0]
    assert not silent_frames(tone(2.0), sr, 50, 25).any()
    assert silent_frames(np.zeros(sr, dtype=np.float32), sr, 25, 25).all()


# --- landmarks and boxes ---------------------------------------------------------------------------------

@check
def box_rule_mirrors_chin_about_nose(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk.landmarks import box_from_landmarks

    lm = np.zeros((68, 2))
    lm[:, 0] = np.linspace(100, 200, 68)
    lm[:, 1] = 150.0
    lm[8] = (150, 260)  # chin
    lm[29] = (150, 180)  # lowest nose-bridge point
    box = box_from_landmarks(lm, 640, 480)
    assert box is not None and box.as_list() == [100, 100, 200, 270], box  # y1 = 2*180-260, y2 = 260+10
    shifted = box_from_landmarks(lm, 640, 480, bbox_shift=5)
    assert shifted is not None and shifted.y1 == 110
    clipped = box_from_landmarks(lm - [150, 0], 640, 265)
    assert clipped is not None and clipped.x1 == 0 and clipped.y2 == 265
    assert box_from_landmarks(np.full((68, 2), 50.0), 640, 480) is None


@check
def mediapipe_mapping_matches_published_table(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk.landmarks import MEDIAPIPE_TO_IBUG68

    table = manifest(ctx, "dwpose_face_keypoints.json")["mediapipe_478_to_ibug68"]["mapping"]
    assert [list(t) for t in MEDIAPIPE_TO_IBUG68] == [table[str(j)] for j in range(68)]


@check
def mediapipe_box_on_real_frame(ctx: Ctx) -> None:
    from musetalk_wrapper import media
    from musetalk_wrapper.engines.musetalk.landmarks import MediaPipeLandmarks, box_from_landmarks

    frame = next(iter(media.read_video_frames(ctx.media / "sun.mp4")))
    backend = MediaPipeLandmarks()
    lm = backend.landmarks68(frame)
    backend.close()
    assert lm is not None and lm.shape == (68, 2)
    box = box_from_landmarks(lm, frame.shape[1], frame.shape[0])
    assert box is not None
    # sun.mp4 frame 0: the face spans about x 215..340, eyes at y ~215, mouth at y ~272, chin at y ~315.
    assert 190 < box.x1 < 250 and 310 < box.x2 < 370, box
    assert 140 < box.y1 < 215 and 300 < box.y2 < 350, box
    assert box.y1 < lm[62, 1] < box.y2  # the mouth is inside
    assert lm[8, 1] > lm[62, 1] > lm[29, 1] > lm[37, 1]  # chin below mouth below nose below eye
    empty = np.full((256, 256, 3), 128, dtype=np.uint8)
    backend = MediaPipeLandmarks()
    assert backend.landmarks68(empty) is None
    backend.close()


@check
def dwpose_onnx_pre_and_post_processing(ctx: Ctx) -> None:
    import dwpose_graph

    from musetalk_wrapper.engines.musetalk.dwpose import DWPoseOnnxLandmarks

    model = dwpose_graph.build(ctx.work / "dwpose_spot.onnx")
    backend = DWPoseOnnxLandmarks(model)
    for (w, h), (cx, cy) in (((576, 768), (300, 250)), ((1280, 720), (900, 200)), ((450, 675), (60, 600))):
        yy, xx = np.mgrid[:h, :w]
        blob = 255 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 6.0**2))  # one peak, at (cx, cy)
        frame = np.repeat(blob[..., None], 3, axis=2).astype(np.uint8)
        pts, scores = backend.keypoints(frame)
        assert pts.shape == (133, 2) and scores.shape == (133,)
        err = np.abs(pts - [cx, cy]).max()
        assert err <= 3.5, (w, h, pts[0], err)
        assert scores.min() > 1.5  # normalised near-white
        lm = backend.landmarks68(frame)
        assert lm is not None and lm.shape == (68, 2)
    assert backend.landmarks68(np.zeros((400, 300, 3), dtype=np.uint8)) is None  # nothing bright: no face
    wrong = dwpose_graph.build(ctx.work / "dwpose_wrong.onnx", kind="wrong_bins")
    expect_unusable(lambda: DWPoseOnnxLandmarks(wrong), "dwpose_wrong.onnx", "SimCC", "yzd-v/DWPose")
    # the engine builds this backend for --landmarks dwpose-onnx --dwpose-model M
    from musetalk_wrapper.engines.musetalk.render import _landmark_factory
    from musetalk_wrapper.request import RenderRequest

    request = RenderRequest(audio=ctx.work / "a.wav", output=ctx.work / "o.mp4", image=ctx.work / "i.png",
                            landmarks="dwpose-onnx", dwpose_model=model)
    opened: list = []
    built = _landmark_factory(request, ctx.tiny, torch.device("cpu"), opened)()
    assert isinstance(built, DWPoseOnnxLandmarks) and opened == [built]
    junk = ctx.work / "junk.onnx"
    junk.write_bytes(b"<html>not a model</html>")
    expect_unusable(lambda: DWPoseOnnxLandmarks(junk), "junk.onnx", "onnxruntime cannot load it")


# --- blending --------------------------------------------------------------------------------------------

@check
def jaw_mask_rules(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk import blending as b

    k = b.jaw_kernel()
    assert k.shape == (33, 33) and int(k.sum()) == 373
    assert not k[:10].any() and k[10].sum() == 1 and k[20].sum() == 21 and k[32, 6:27].all()
    labels = np.zeros((512, 512), dtype=np.uint8)
    labels[200:400, 150:362] = b.SKIN
    labels[230:300, 236:276] = b.NOSE
    labels[330:350, 220:292] = b.UPPER_LIP
    labels[450:470, 250:262] = b.LOWER_LIP  # lips outside the skin still count
    mask = b.jaw_mask(labels)
    assert mask[250, 256] == 0  # nose removed
    assert mask[340, 256] == 255 and mask[460, 255] == 255  # lips kept, even outside the skin
    assert mask[300, 200] == 255 and mask[300, 175] == 255  # skin in the centre band
    # cv2.dilate with the cone (ones below the anchor only) grows the centre band 16 rows up, 6 rows down
    assert mask[185, 256] == 255 and mask[183, 256] == 0
    assert mask[405, 256] == 255 and mask[407, 256] == 0
    # outside centre +- 90 px the dilated skin is eroded by a 35x3 ellipse twice: ~34 px off the sides
    assert mask[300, 160] == 0 and mask[300, 366] == 0
    assert mask[300, 340] == 255 and mask[300, 345] == 255  # last centre-band columns: dilated, not eroded


@check
def blend_changes_only_masked_pixels(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk import blending as b
    from musetalk_wrapper.engines.musetalk.landmarks import FaceBox

    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (300, 260, 3), dtype=np.uint8)
    face = FaceBox(150, 120, 256, 290)  # near the right/bottom edges: the crop box leaves the frame
    crop = b.crop_box_for(face)
    assert crop.x2 > 260 and crop.size == 2 * int(170 // 2 * 1.5)
    labels = np.full((512, 512), b.SKIN, dtype=np.uint8)
    mask = b.blend_mask(labels, face, crop)
    full = b.full_frame_mask(mask, crop, 260, 300)
    out = b.paste_face(frame, np.full((256, 256, 3), 7, dtype=np.uint8), face, crop, mask)
    changed = np.any(out != frame, axis=2)
    assert changed.any()
    assert not changed[full == 0].any()
    blur_radius = int(0.05 * crop.size) // 2
    # the upper half of the crop never changes (but for the blur's reach across the boundary)
    assert not changed[: crop.y1 + crop.size // 2 - blur_radius].any()
    inner = full == 255
    assert inner.any() and (out[inner] == 7).all()


# --- cache, checkpoints, devices -------------------------------------------------------------------------

def _store_many(args: tuple[str, str, int]) -> int:
    from musetalk_wrapper.engines.musetalk.avatar_cache import AvatarCache, PreparedFrame

    root, source, seed = args
    cache = AvatarCache(Path(root), Path(source), "abc", {"p": 1})
    rng = np.random.default_rng(0)  # same content from both writers
    for i in range(30):
        cache.store(i, PreparedFrame([1, 2, 30, 40], [0, 0, 50, 50], rng.standard_normal((8, 32, 32)).astype(
            np.float32), rng.integers(0, 255, (50, 50), dtype=np.uint8)))
    return seed


def _lock_and_stamp(root: str, source: str, acquired: Any) -> None:
    from musetalk_wrapper.engines.musetalk.avatar_cache import AvatarCache

    with AvatarCache(Path(root), Path(source), "abc", {"p": 1}).preparing():
        acquired.value = time.time()


@check
def avatar_cache_roundtrip_and_concurrency(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk.avatar_cache import AvatarCache, PreparedFrame

    root, source = ctx.work / "cache", ctx.work / "src.mp4"
    source.write_bytes(b"x")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert sorted(pool.map(_store_many, [(str(root), str(source), 1), (str(root), str(source), 2)])) == [1, 2]
    cache = AvatarCache(root, source, "abc", {"p": 1})
    first = cache.load(0)
    assert first is not None and first.face_box == [1, 2, 30, 40] and first.latents.shape == (8, 32, 32)
    assert all(cache.load(i) is not None for i in range(30)) and cache.load(30) is None
    assert not list(cache.dir.glob("*.tmp"))
    other = AvatarCache(root, source, "abc", {"p": 2})
    assert other.dir != cache.dir and other.load(0) is None
    cache.store(40, PreparedFrame(None, None, None, None))
    faceless = cache.load(40)
    assert faceless is not None and faceless.face_box is None
    (cache.dir / "frame-000041.npz").write_bytes(b"PK\x03\x04 damaged")
    assert cache.load(41) is None
    # A second render waits on the entry's lock until the first has finished preparing.
    fork = multiprocessing.get_context("fork")
    acquired = fork.Value("d", 0.0)
    with cache.preparing():
        child = fork.Process(target=_lock_and_stamp, args=(str(root), str(source), acquired))
        child.start()
        time.sleep(1.0)
        released = time.time()
    child.join(30)
    assert child.exitcode == 0 and acquired.value >= released, (acquired.value, released)


@check
def unreadable_checkpoints_are_engine_unavailable(ctx: Ctx) -> None:
    models = ctx.work / "models"
    unet = models / "musetalkV15" / "unet.pth"
    unet.parent.mkdir(parents=True, exist_ok=True)
    data = (ctx.tiny / "musetalkV15" / "unet.pth").read_bytes()
    unet.write_bytes(data[: len(data) // 2])
    expect_unusable(lambda: read_state_dict(unet, models), str(unet), "cannot be read as a checkpoint",
                    "huggingface-cli download TMElyralab/MuseTalk")
    unet.write_bytes(b"<!DOCTYPE html><html>Too many requests</html>")
    expect_unusable(lambda: read_state_dict(unet, models), "unet.pth")
    torch.save({"epoch": 3, "weights": [1, 2]}, unet)
    expect_unusable(lambda: read_state_dict(unet, models), "not a plain state_dict")
    vae_bin = models / "sd-vae" / "diffusion_pytorch_model.safetensors"
    vae_bin.parent.mkdir(parents=True, exist_ok=True)
    vae_bin.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    expect_unusable(lambda: read_state_dict(vae_bin, models), "sd-vae/diffusion_pytorch_model.safetensors",
                    "stabilityai/sd-vae-ft-mse")


@check
def cuda_request_without_cuda(ctx: Ctx) -> None:
    from musetalk_wrapper.engines.musetalk.devices import pick_device

    assert pick_device("cpu") == (torch.device("cpu"), torch.float32)
    if not torch.cuda.is_available():
        assert pick_device("auto") == (torch.device("cpu"), torch.float32)
        expect_unusable(lambda: pick_device("cuda"), "musetalk-cuda")


@check
def generation_precision(ctx: Ctx) -> None:
    """bf16 autocast for UNet + decode where the CPU has it; fp32 asked for means fp32; fp16 needs CUDA."""
    from musetalk_wrapper.engines.musetalk.devices import cpu_has_native_bf16, generation_autocast
    from musetalk_wrapper.engines.musetalk.generate import decode_faces
    from diffusers import AutoencoderKL

    cpu = torch.device("cpu")
    assert generation_autocast(cpu, torch.float32, "fp32") is None
    assert generation_autocast(cpu, torch.float32, "bf16") == torch.bfloat16
    assert generation_autocast(cpu, torch.float32, "auto") == (torch.bfloat16 if cpu_has_native_bf16() else None)
    try:
        generation_autocast(cpu, torch.float32, "fp16")
    except EngineError as err:
        assert err.code is ErrorCode.BAD_INPUT and "CUDA" in err.message
    else:
        raise AssertionError("fp16 on a CPU must be refused")
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(32, 64), down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=32).eval()
    z = torch.randn(2, 4, 16, 16)
    full = decode_faces(vae, z, 0.18215).astype(int)
    half = decode_faces(vae, z, 0.18215, torch.bfloat16).astype(int)
    assert full.shape == half.shape and full.dtype == half.dtype
    assert 0 < abs(full - half).mean() < 3, "bf16 decode should be close to fp32, and actually run in bf16"


def main() -> None:
    out = Path(sys.argv[1])
    ctx = Ctx(*(Path(a) for a in sys.argv[2:6]))
    ctx.work.mkdir(parents=True, exist_ok=True)
    names = sys.argv[6:] or list(CHECKS)
    results = {}
    for name in names:
        try:
            CHECKS[name](ctx)
            results[name] = {"ok": True, "error": ""}
        except Exception:  # report every failing check, not only the first
            results[name] = {"ok": False, "error": traceback.format_exc()}
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

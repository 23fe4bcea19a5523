"""One render request, built from argv; engines read only the fields they use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from musetalk_wrapper.media import MAX_SIDE_PX, OUTPUT_FPS


@dataclass(frozen=True)
class RenderRequest:
    audio: Path
    output: Path
    image: Path | None = None
    video: Path | None = None
    fps: int = OUTPUT_FPS
    max_side: int = MAX_SIDE_PX  # px: the output's longest side at most this (the source is scaled down, never up)
    timings: Path | None = None  # narration timings JSON (timings.schema.json)
    # The motion clock (seconds): output frame i shows the source's motion (video position, head sway, blinks)
    # at clock time start_s + i / fps, so clips rendered separately join seamlessly when each one's start_s is
    # where the previous one's handoff_s was.
    start_s: float = 0.0
    # When set, the clip's last frames dissolve into the motion at clock time handoff_s - (time left in the
    # clip): its final frame is the one just before handoff_s, where the next clip starts.
    handoff_s: float | None = None
    # puppet
    motion: bool = True  # photo sources: blinks and a slight head sway; video sources: keep source motion
    blink: bool = True
    # musetalk
    models_dir: Path | None = None
    cache_dir: Path | None = None
    device: str = "auto"
    precision: str = "auto"  # generation (UNet + VAE decode): auto | fp32 | bf16 | fp16
    batch_size: int = 0  # 0: chosen by the engine (free memory on CUDA)
    bbox_shift: int = 0
    landmarks: str = "mediapipe"
    dwpose_model: Path | None = None
    # musetalk-upstream
    vendor_dir: Path | None = None

    @property
    def source(self) -> Path:
        src = self.image or self.video
        assert src is not None
        return src

"""The ``jaw`` blend mask and pasting: only masked pixels change, never the upper half of the crop; the
face-parsing input and the mask resized as upstream's Pillow calls do."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from musetalk_wrapper.engines.musetalk import blending as b
from musetalk_wrapper.engines.musetalk.landmarks import FaceBox
from musetalk_wrapper.engines.musetalk.prepare import parse_input


def test_jaw_mask_rules() -> None:
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


def test_blend_changes_only_masked_pixels() -> None:
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


def _upstream_parse_input(frame: np.ndarray, face: FaceBox) -> np.ndarray:
    """Upstream's BiSeNet input: PIL crop (black outside the frame), PIL resize to 512 with BILINEAR."""
    crop = b.crop_box_for(face)
    return np.asarray(Image.fromarray(frame).crop(tuple(crop.as_list())).resize((512, 512), Image.BILINEAR))


def _upstream_mask(labels: np.ndarray, face: FaceBox) -> np.ndarray:
    """Upstream's blend mask from a parsing map (musetalk/utils/blending.py get_image, PIL as upstream uses it)."""
    crop = b.crop_box_for(face)
    x, y, x1, y1 = face.as_list()
    x_s, y_s = crop.x1, crop.y1
    ori = (crop.size, crop.size)
    seg = Image.fromarray(b.jaw_mask(labels)).resize(ori)  # face_seg: Pillow's default filter for mode L
    small = seg.crop((x - x_s, y - y_s, x1 - x_s, y1 - y_s))
    mask = Image.new("L", ori, 0)
    mask.paste(small, (x - x_s, y - y_s, x1 - x_s, y1 - y_s))
    top = int(ori[1] * 0.5)
    modified = Image.new("L", ori, 0)
    modified.paste(mask.crop((0, top, ori[0], ori[1])), (0, top))
    k = int(0.05 * ori[0] // 2 * 2) + 1
    return cv2.GaussianBlur(np.array(modified), (k, k), 0)


def test_face_parsing_input_and_mask_match_upstream_pillow_on_a_large_face() -> None:
    """A face whose expanded crop is 674 px: shrinking to 512 antialiases (as Pillow does), the mask comes back
    with Pillow's bicubic; both within 2/255 of upstream's own PIL calls (cv2 INTER_LINEAR was 27/255 off)."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[:900, :800]
    stripes = 127 + 100 * np.sin(xx * 1.3) * np.cos(yy * 0.9)  # detail near the Nyquist limit: aliasing shows
    frame = np.clip(stripes[..., None] + rng.normal(0, 20, (900, 800, 3)), 0, 255).astype(np.uint8)
    face = FaceBox(180, 250, 630, 700)  # 450 x 450: the crop box leaves the frame on no side
    crop = b.crop_box_for(face)
    assert crop.size == 674 and crop.x1 >= 0 and crop.y2 <= 900
    ours = parse_input(frame, face).astype(int)
    theirs = _upstream_parse_input(frame, face).astype(int)
    assert ours.shape == (512, 512, 3)
    assert np.abs(ours - theirs).max() <= 2
    naive = cv2.resize(b.crop_padded(frame, crop), (512, 512), interpolation=cv2.INTER_LINEAR).astype(int)
    assert np.abs(naive - theirs).max() > 20  # the test can tell the difference
    labels = np.zeros((512, 512), dtype=np.uint8)
    labels[(yy[:512, :512] - 280) ** 2 / 200**2 + (xx[:512, :512] - 256) ** 2 / 150**2 < 1] = b.SKIN
    labels[230:300, 236:276] = b.NOSE
    labels[340:360, 210:300] = b.UPPER_LIP
    labels[360:380, 215:295] = b.LOWER_LIP
    ours_mask = b.blend_mask(labels, face, crop).astype(int)
    assert ours_mask.max() == 255
    assert np.abs(ours_mask - _upstream_mask(labels, face).astype(int)).max() <= 2

"""The ``jaw`` blend mask and pasting: only masked pixels change, never the upper half of the crop."""
from __future__ import annotations

import numpy as np

from musetalk_wrapper.engines.musetalk import blending as b
from musetalk_wrapper.engines.musetalk.landmarks import FaceBox


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

"""Write the demo presenter photo: scikit-image's astronaut (public-domain NASA portrait, ships in the wheel)."""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image
from skimage import data


def main(out: str = "out/presenter.png") -> int:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(data.astronaut()).save(path)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))

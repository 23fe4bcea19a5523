"""PPTX/ODP -> PDF with LibreOffice headless (Debian ``libreoffice-impress``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from presgen_training.deck.model import DeckError
from presgen_training.deck.tools import LIBREOFFICE, run_tool

CONVERT_TIMEOUT_S = 600.0  # a 200-slide deck with photos takes minutes on 2 cores


def convert_to_pdf(deck: Path, target: Path) -> None:
    """Write ``target`` (a PDF of every visible slide); the file appears only when complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".convert-", dir=target.parent) as tmp:
        work = Path(tmp)
        # A private profile: LibreOffice refuses to run twice on one profile, and $HOME may be read-only.
        profile = (work / "profile").as_uri()
        env = {**os.environ, "HOME": str(work), "SAL_USE_VCLPLUGIN": "svp"}
        run_tool(
            LIBREOFFICE,
            [
                "--headless",
                "--norestore",
                "--nolockcheck",
                "--nodefault",
                "--nofirststartwizard",
                f"-env:UserInstallation={profile}",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work),
                str(deck.resolve()),
            ],
            f"converting {deck.name} to PDF",
            timeout_s=CONVERT_TIMEOUT_S,
            env=env,
        )
        produced = work / f"{deck.stem}.pdf"
        if not produced.is_file() or produced.stat().st_size == 0:
            raise DeckError(f"LibreOffice could not convert {deck.name} to PDF (damaged or unsupported deck)")
        os.replace(produced, target)

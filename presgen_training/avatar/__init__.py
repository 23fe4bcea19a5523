"""Avatar stage: engine subprocesses in their own venvs, with fallback, and the in-process static engine."""

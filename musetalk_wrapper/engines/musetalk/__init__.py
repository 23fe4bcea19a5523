"""Native MuseTalk V1.5 engine: our own inference code (no OpenMMLab) loading the official checkpoints.

Modules: ``engine`` (the Engine), ``render`` (the pipeline), ``models``/``checkpoints`` (strict loading),
``bisenet`` (face parsing), ``audio_features`` (whisper windows), ``landmarks``/``dwpose`` (face boxes),
``prepare``/``avatar_cache`` (cached per-source work), ``generate`` (UNet + VAE decode), ``blending``,
``silence``, ``source_frames``, ``devices``.
"""

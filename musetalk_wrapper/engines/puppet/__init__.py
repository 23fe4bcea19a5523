"""The ``puppet`` engine: the presenter's own face, with the lower face warped so the mouth follows the audio.

One module per step: ``source`` (decode the photo or video) -> ``tracking`` (MediaPipe face mesh, face checks,
``one_euro`` smoothing) -> ``audio_features`` + ``audio_drive`` or ``timings`` + ``visemes`` (a mouth shape per
output frame) -> ``lower_face`` (landmark targets, piecewise-affine ``warp``, ``mouth_interior``) ->
``photo_motion`` (blinks and sway for photos). ``pipeline`` strings them together; ``engine`` encodes.
Needs mediapipe==0.10.21 (its models ship in the wheel), OpenCV and numpy<2: envs/puppet. No downloaded weights.
"""

ENV = "puppet"  # the env (envs/puppet) that carries this engine's dependencies

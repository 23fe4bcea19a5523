"""A render is planned as segments, one per script section: each has its own narration audio, presenter clip and
overlay clip, cached by a hash of everything that can change its pixels or samples. The final MP4 is a
frame-exact stream-copy concatenation of the overlay clips with the whole narration as one continuous track.

Modules: ``plan`` (segment bounds, motion clock, cutting audio and timings), ``keys`` (what each cache key
covers), ``avatar_clips`` and ``overlay_clips`` (producing or reusing the clips), ``concat`` (the final file).
"""

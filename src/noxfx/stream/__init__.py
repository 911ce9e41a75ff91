"""The live stream: ticks from a source, bars built from them, events on a bus to listeners
(see :mod:`noxfx.stream.runner`)."""

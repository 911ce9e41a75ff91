"""The service layer: what the routes call. Each module owns one resource and calls the library
(``noxfx.data``, ``noxfx.analysis``, ...) or the database; routes stay a few lines."""

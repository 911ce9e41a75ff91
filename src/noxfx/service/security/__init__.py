"""Security primitives of the service: passwords, tokens, TOTP, permissions.

Pure functions and small classes with no Flask or database in them, so they are tested directly
and reused by the CLI (e.g. ``noxfx users set-role``).
"""

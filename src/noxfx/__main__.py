"""``python -m noxfx`` runs the CLI."""

from noxfx.cli import main

if __name__ == "__main__":
    main()

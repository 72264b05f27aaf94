"""omc-dev: developer workflow and verification for parallel tracks on one Compose stack."""

__version__ = "0.1.0.dev0"

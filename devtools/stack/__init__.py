"""The reference stack's lifecycle for a track: `omc-dev up`, `down` and `db reset`."""

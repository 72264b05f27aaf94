"""The resolved Compose project. `devtools.compose.cli` is the only module that runs the compose CLI."""

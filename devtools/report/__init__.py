"""The one report pipeline: checks produce `Finding`s, commands wrap them in a `Report`, and
`render(report, fmt)` prints it and returns the exit code. Nothing heavy is imported here."""

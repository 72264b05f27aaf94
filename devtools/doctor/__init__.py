"""`omc-dev doctor`: ordered checks of the engine, compose and the stack's files."""

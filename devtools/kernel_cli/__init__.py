"""omc-dev's commands for the reference trading kernel (`kernel/`): thin click layers."""

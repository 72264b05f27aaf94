"""`.env`, `.env.example` and `env_file` files against the compose project they configure."""

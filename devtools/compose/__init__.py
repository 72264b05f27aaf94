"""The resolved Compose project (model, files, .env). Running the compose CLI is
`devtools.docker.compose`'s job: Docker is reached only through `devtools.docker`."""

"""The Docker engine, reached one way: the endpoint and its contexts with the raw socket client the
`run` fast path needs (`engine_api`), the Engine SDK for everything else (`sdk`, its exceptions in
`errors`), and the compose CLI (`compose`). Nothing else in devtools runs `docker` or imports the SDK."""

"""The Docker engine, reached one way: the endpoint and its contexts with the raw socket client the
`run` fast path needs (`engine_api`), and the Engine SDK for everything else (`sdk`)."""

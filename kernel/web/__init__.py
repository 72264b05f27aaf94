"""The kernel's dashboard: a read-only Starlette application `omc-dev kernel serve` runs.

Nothing here is imported by the rest of the kernel or by the CLI's start-up: the web libraries
(Starlette, Jinja2, uvicorn) load only when `serve` runs. See `kernel.web.app` for the routes and
`kernel.web.pages.render` for the helper every HTML page uses.
"""

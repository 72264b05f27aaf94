"""`omc-dev verify`: is the work on the remote branch, real, and not generated padding?

`objectmodel` + `gitmodel` the clone through GitPython (git itself: `devtools.git`) · `generated` which changed files a tool wrote ·
`stubs` placeholder code and symbol definitions · `spec` the deliverables · `checks` the
ordered pipeline that turns those into findings · `report` text, JSON and GitHub output.
"""

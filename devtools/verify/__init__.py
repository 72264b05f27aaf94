"""`omc-dev verify`: is the work on the remote branch, real, and not generated padding?

`gitmodel` the clone through GitPython, imported early by `objectmodel` (git itself is reached
through `devtools.git`) · `generated` which changed files a tool wrote · `stubs` placeholder
code and symbol definitions · `spec` the deliverables · `checks` the ordered pipeline that
turns those into findings · `report` text, JSON and GitHub output.
"""

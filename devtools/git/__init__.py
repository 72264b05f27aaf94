"""Every way omc-dev reaches git, in one package.

`runner` starts git (argv lists, a timeout, no prompts, the process group ended on a timeout or
an interrupt) · `objects` reads objects through one `git cat-file --batch` · `refs` the server's
and this clone's refs · `history` ranges, file lists and ancestry · `layout` where the worktree,
git dir and shared git dir are, read from `.git` without starting git · `errors` the one
`GitFailed` (exit 125) every caller raises.

Nothing is imported here: `omc-dev --help` and `run`'s fast path import only `layout`.
"""

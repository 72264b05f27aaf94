"""The verify pipeline: resolve the target, read the remote, then run the checks in order.

Where the work is comes first (`branch-missing`, `unpushed-commits`, `branch-drift`), then
what the remote branch holds (`missing-path`, `missing-symbol`, `stub`, `generated-only`).
Each check reads the same facts and reports with its own id; none of them changes anything
except `fetch`, which only updates remote-tracking refs (and deepens a shallow clone).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from devtools.errors import UnusableInput
from devtools.findings import Finding, Severity
from devtools.verify import gitrefs
from devtools.verify.binary import binary_problem
from devtools.verify.generated import Classifier, FileRef
from devtools.verify.gitrefs import (
    FileChange,
    Git,
    GitFailed,
    LocalRefs,
    ObjectReader,
    Pending,
    ServerRefs,
)
from devtools.verify.model import (
    BRANCH_DRIFT,
    BRANCH_MISSING,
    GENERATED_ONLY,
    MISSING_PATH,
    MISSING_SYMBOL,
    SHALLOW,
    STALE,
    STUB,
    UNPUSHED,
    DiffEntry,
    Report,
    Request,
    Target,
)
from devtools.verify.spec import Deliverable, path_regex
from devtools.verify.stubs import defined_symbols, find_stubs

if TYPE_CHECKING:  # GitPython is imported while the first git calls run
    from git.objects import Commit

    from devtools.verify.gitmodel import LocalRepo

CI_BRANCH_VARIABLES = ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME")
DEFAULT_REMOTE = "origin"
DEFAULT_BASE = "main"
SHOWN_COMMITS = 3


def verify(request: Request) -> Report:
    with Git(request.start, request.environ) as git, ObjectReader(git) as objects:
        report = Verifier(request, git, objects).run()
    report.git_processes = git.spawned
    return report


# ---- which branch, which local work --------------------------------------------------------------


def _branch_name(ref: str) -> str:
    return ref.strip().removeprefix("refs/heads/")


def resolve_branch(request: Request, current: str | None) -> tuple[str, str]:
    """The branch to verify (`current`: the checked-out one) and where the name came from."""
    if request.branch:
        return _branch_name(request.branch), "--branch"
    env = request.environ
    for variable in CI_BRANCH_VARIABLES:
        value = env.get(variable, "").strip()
        if variable == "GITHUB_REF_NAME" and env.get("GITHUB_REF_TYPE") == "tag":
            continue  # a tag build has no branch to verify
        if value:
            return _branch_name(value), variable
    if current:
        return current, "current branch"
    raise UnusableInput(
        "HEAD is detached and no branch was named: pass --branch, or run where CI sets "
        f"one of {', '.join(CI_BRANCH_VARIABLES)}"
    )


@dataclass
class RemoteView:
    """The remote's branches as verify uses them."""

    heads: dict[str, str]  # branch -> commit (the server's; the cache's only when stale)
    server_commits: frozenset[str]  # every ref's object on the server (tags, pull refs too)
    default_branch: str | None
    mode: str
    findings: list[Finding] = field(default_factory=list)


class Verifier:
    repo: LocalRepo  # opened by run(), once GitPython is imported

    def __init__(self, request: Request, git: Git, objects: ObjectReader) -> None:
        self.request = request
        self.spec = request.spec
        self.git = git
        self.objects = objects
        self._early_diff: tuple[str, str, Pending[list[FileChange]]] | None = None

    def _base(self, remote_default: str | None) -> str:
        """The base branch: --base, the spec's, where the remote's HEAD points, else main."""
        return self.request.base or self.spec.base or remote_default or DEFAULT_BASE

    def _open_repo(self) -> None:
        model = gitrefs.object_model()
        self.repo = model.LocalRepo(self.request.start, self.git, self.objects)

    def run(self) -> Report:
        if self.request.pre_push:
            self._open_repo()
            return self._run_pre_push()
        remote = self.request.remote or self.spec.remote or DEFAULT_REMOTE
        pending_refs = gitrefs.local_refs(self.git, remote)
        # GitPython is imported while git works (a thread waiting on git holds no GIL).
        gitrefs.preload_object_model()
        with contextlib.suppress(GitFailed):  # not a repository, say: _open_repo says so
            self._start_early_diff(pending_refs.result())
        self._open_repo()
        refs = pending_refs.result()
        if remote not in self.repo.remotes:
            known = ", ".join(sorted(self.repo.remotes)) or "none"
            raise UnusableInput(
                f"this clone has no remote named {remote!r} (remotes: {known}): pass --remote"
            )
        branch, source = resolve_branch(self.request, self.repo.branch)
        server = gitrefs.ls_remote(self.git, remote)
        target = self._target(remote, branch, source, refs)
        view = self._remote_view(target, refs, server.result())
        base = self._base(view.default_branch)
        report = Report(remote, branch, source, base=base, mode=view.mode)
        report.findings += view.findings
        report.tip = tip = view.heads.get(branch)
        report.findings += self.check_where(target, view, tip)
        if tip is None or branch == base:
            return report  # nothing on the remote to read, or no range to judge
        report.base_tip = view.heads.get(base)
        if report.base_tip is None:
            raise UnusableInput(
                f"the base branch {base!r} is not on {remote}: pass --base (or set base in "
                "[tool.omc-dev.verify])"
            )
        others = {b: sha for b, sha in view.heads.items() if b != branch}
        self.check_content(report, target, others)
        return report

    # ---- the range's diff, started early --------------------------------------------------------

    def _start_early_diff(self, refs: LocalRefs) -> None:
        """Start the diff on the remote-tracking refs before anything else is known.

        The diff is the long pole; while it runs, GitPython is imported and the server asked.
        When the server agrees with this clone's refs (compared by commit id in `_diff`) and
        nothing was fetched, its answer is ready early; otherwise it is stopped and the right
        range is diffed.
        """
        try:
            branch, _ = resolve_branch(self.request, refs.current)
        except UnusableInput:
            return  # a detached HEAD without a branch name: the model reports it
        base = self._base(refs.default_branch)
        tip, base_tip = refs.tracking.get(branch), refs.tracking.get(base)
        if tip and base_tip and branch != base:
            self._early_diff = (base_tip, tip, gitrefs.diff_range(self.git, base_tip, tip))

    def _drop_early_diff(self) -> None:
        if self._early_diff is not None:
            self._early_diff[2].stop()
            self._early_diff = None

    def _diff(self, base_tip: str, tip: str) -> Pending[list[FileChange]]:
        early = self._early_diff
        if early is not None and early[:2] == (base_tip, tip):
            self._early_diff = None
            return early[2]
        self._drop_early_diff()
        return gitrefs.diff_range(self.git, base_tip, tip)

    # ---- target and remote -------------------------------------------------------------------

    def _target(self, remote: str, branch: str, source: str, refs: LocalRefs) -> Target:
        if branch in refs.heads:
            return Target(remote, branch, source, "branch", refs.heads[branch])
        if self.repo.branch is None and self.repo.head:
            return Target(remote, branch, source, "detached", self.repo.head)
        return Target(remote, branch, source, "none", None)

    def _remote_view(self, target: Target, refs: LocalRefs, server: ServerRefs) -> RemoteView:
        remote = target.remote
        cached = dict(refs.tracking)
        out_of_date = {b for b, sha in server.heads.items() if cached.get(b) != sha}
        out_of_date |= set(cached) - set(server.heads)
        findings: list[Finding] = []
        if self.request.fetch and (out_of_date or self.repo.shallow):
            self._drop_early_diff()  # it read history the fetch may change (a shallow one)
            gitrefs.fetch(self.git, remote, unshallow=self.repo.shallow)
            return RemoteView(dict(server.heads), server.commits, server.default_branch, "fetched")
        if self.repo.shallow:
            findings.append(
                Finding(
                    SHALLOW,
                    Severity.WARNING,
                    "this clone is shallow and was not deepened (--no-fetch): commits below "
                    "the shallow boundary are invisible, so unpushed and drift results may "
                    "be incomplete",
                    fix=f"run without --no-fetch, or `git fetch --unshallow {remote}`",
                )
            )
        heads = {b: sha for b, sha in server.heads.items() if cached.get(b) == sha}
        missing = sorted(set(server.heads) - set(heads))
        present = self.objects.read([server.heads[b] for b in missing])
        for name, obj in zip(missing, present, strict=True):
            if obj is not None:  # the server's commit is here already, only the ref is old
                heads[name] = server.heads[name]
            elif name in cached:
                heads[name] = cached[name]
                if name == target.branch:
                    findings.append(
                        Finding(
                            STALE,
                            Severity.WARNING,
                            f"{remote}/{name} is at {server.heads[name][:10]} on the server but "
                            f"at {cached[name][:10]} in this clone (--no-fetch): the content "
                            "checks read the older commit",
                            fix="run without --no-fetch",
                        )
                    )
            elif name == target.branch:
                raise UnusableInput(
                    f"{remote}/{name} exists on the server but not in this clone (--no-fetch): "
                    "run without --no-fetch"
                )
        mode = "--no-fetch" if not self.request.fetch else "up to date"
        return RemoteView(heads, server.commits, server.default_branch, mode, findings)

    # ---- where the work is -------------------------------------------------------------------

    def check_where(self, target: Target, view: RemoteView, tip: str | None) -> list[Finding]:
        """`branch-missing`, `unpushed-commits`, `branch-drift` (for commits)."""
        local = target.local_tip
        if tip is None:
            return self._branch_missing(target, view)
        if local is None or local == tip:
            return []
        if target.local_kind == "detached":
            shas = gitrefs.commits_between(self.git, local, view.server_commits, first_parent=False)
            if not shas:
                return []
            return [self._unpushed(target, self.repo.commits(shas), where="HEAD (detached)")]
        # The branch's own line of work: merges brought in from elsewhere are not drift.
        shas = gitrefs.commits_between(self.git, local, [tip], first_parent=True)
        on_other = gitrefs.remote_branches_containing(
            self.git, shas, target.remote, exclude_branch=target.branch
        )
        commits = self.repo.commits(shas)
        findings: list[Finding] = []
        by_branch: dict[str, list[Commit]] = defaultdict(list)
        for commit in commits:
            if commit.hexsha in on_other:
                by_branch[on_other[commit.hexsha]].append(commit)
        for other, drifted in sorted(by_branch.items()):
            findings.append(
                Finding(
                    BRANCH_DRIFT,
                    Severity.ERROR,
                    f"{_count(drifted, 'commit')} of local {target.branch} "
                    f"{'is' if len(drifted) == 1 else 'are'} on {other}, not on {target.label}: "
                    f"{_commits(drifted)}",
                    fix=f"push {_them(drifted)} to {target.label} (`git push {target.remote} "
                    f"{target.branch}`); if {_them(drifted, 'they')} landed on {other} by "
                    f"mistake, revert {_them(drifted)} there",
                )
            )
        unpushed = [c for c in commits if c.hexsha not in on_other]
        if unpushed:
            findings.append(self._unpushed(target, unpushed, where=f"local {target.branch}"))
        return findings

    def _unpushed(self, target: Target, commits: Sequence[Commit], where: str) -> Finding:
        return Finding(
            UNPUSHED,
            Severity.ERROR,
            f"{_count(commits, 'commit')} on {where} {'is' if len(commits) == 1 else 'are'} "
            f"not on {target.label} (checked with the server): {_commits(commits)}",
            fix=f"git push {target.remote} HEAD:refs/heads/{target.branch}"
            if target.local_kind == "detached"
            else f"git push {target.remote} {target.branch}",
        )

    def _branch_missing(self, target: Target, view: RemoteView) -> list[Finding]:
        findings = [
            Finding(
                BRANCH_MISSING,
                Severity.ERROR,
                f"{target.remote} has no branch {target.branch!r} (checked with the server)",
                fix=f"git push --set-upstream {target.remote} {target.branch}",
            )
        ]
        local = target.local_tip
        if local is None:
            return findings
        on_other = gitrefs.remote_branches_containing(
            self.git, [local], target.remote, exclude_branch=target.branch
        )
        if local in on_other:
            commit = self.repo.commits([local])
            findings.append(
                Finding(
                    BRANCH_DRIFT,
                    Severity.ERROR,
                    f"the work of local {target.branch} is on {on_other[local]} instead: "
                    f"its tip {_commits(commit)} is there",
                    fix=f"git push --set-upstream {target.remote} {target.branch}",
                )
            )
        return findings

    # ---- what the remote branch holds ----------------------------------------------------------

    def check_content(self, report: Report, target: Target, others: Mapping[str, str]) -> None:
        assert report.tip and report.base_tip
        # The diff is the long pole: git computes it while the deliverables are read.
        diff = self._diff(report.base_tip, report.tip)
        classifier = Classifier(self.objects, report.tip)
        deliverables = [d for d in self.spec.deliverables if d.applies_to(target.branch)]
        report.deliverables = [d.name for d in deliverables]
        if deliverables:
            files = gitrefs.list_files(self.git, report.tip)
            report.findings += self._deliverables(
                deliverables,
                files,
                classifier=classifier,
                target=target,
                report=report,
                others=others,
            )
        try:
            changes = diff.result()
        except gitrefs.NoMergeBase:
            pair = f"{target.remote}/{report.base} and {target.label}"
            if self.repo.shallow:
                rerun = "" if self.request.pre_push else "run without --no-fetch, or "
                raise UnusableInput(
                    f"{pair} have no merge base in this shallow clone (their common history is "
                    f"cut off): {rerun}deepen it with `git fetch --unshallow {target.remote}`"
                ) from None
            raise UnusableInput(f"{pair} share no history: is --base right?") from None
        verdicts = classifier.classify(
            [FileRef(c.path, None if c.binary else c.blob) for c in changes]
        )
        report.diff = [DiffEntry(c, verdicts[c.path]) for c in changes]
        if not changes and gitrefs.is_ancestor(self.git, report.tip, report.base_tip):
            # Already merged: base...branch is empty, so there are no lines to weigh.
            report.notes.append(f"{target.label} is merged into {report.base}")
            return
        report.findings += self._generated_only(report, deliverables)

    def _deliverables(
        self,
        deliverables: Sequence[Deliverable],
        files: Mapping[str, str],
        *,
        classifier: Classifier,
        target: Target,
        report: Report,
        others: Mapping[str, str],
    ) -> list[Finding]:
        findings: list[Finding] = []
        owned: dict[str, list[str]] = {}
        for d in deliverables:
            mine: dict[str, None] = {}  # ordered, without repeats
            for pattern in d.paths:
                regex = path_regex(pattern)
                hits = [path for path in files if regex.fullmatch(path)]
                if not hits:
                    findings.append(
                        self._missing_path(d, pattern, target=target, others=others, report=report)
                    )
                mine.update(dict.fromkeys(hits))
            owned[d.name] = list(mine)
        wanted = sorted(
            {p for paths in owned.values() for p in paths}
            | {s.path for d in deliverables for s in d.symbols if s.path and s.path in files}
        )
        contents = dict(zip(wanted, self.objects.blobs([files[p] for p in wanted]), strict=True))
        verdicts = classifier.classify([FileRef(p, files[p]) for p in wanted], contents)
        texts = {
            p: data.decode("utf-8", "replace")
            for p, data in contents.items()
            if data is not None and b"\0" not in data[:8192]
        }
        stubbed: set[str] = set()
        for d in deliverables:
            for path in owned[d.name]:
                binary = None if path in stubbed else binary_problem(path, contents[path] or b"")
                if binary:
                    stubbed.add(path)
                    message = f"deliverable {d.name!r}: {binary}"
                    findings.append(Finding(STUB, Severity.ERROR, message, path=path))
                if path in stubbed or path not in texts or verdicts[path].generated:
                    continue
                stubbed.add(path)  # a file shared by two deliverables is reported once
                for stub in find_stubs(path, texts[path], min_lines=self.spec.stub_min_lines):
                    findings.append(
                        Finding(
                            STUB,
                            stub.severity,
                            f"deliverable {d.name!r}: {stub.message}",
                            path=path,
                            line=stub.line,
                        )
                    )
            findings += self._symbols(d, owned[d.name], texts, files, target)
        return findings

    def _missing_path(
        self,
        d: Deliverable,
        pattern: str,
        *,
        target: Target,
        others: Mapping[str, str],
        report: Report,
    ) -> Finding:
        if not any(c in pattern for c in "*?["):
            # Is it on another branch? One batched lookup over every other branch.
            order = sorted(others, key=lambda b: (b != report.base, b))
            found = self.objects.read([f"{others[b]}:{pattern.strip('/')}" for b in order])
            hits = [b for b, obj in zip(order, found, strict=True) if obj is not None]
            if hits:
                where = f"{target.remote}/{hits[0]}"
                sha = gitrefs.commit_adding(self.git, others[hits[0]], pattern.strip("/"))
                added = self.repo.commits([sha])[0] if sha else None
                also = f" (also on {', '.join(hits[1:4])})" if len(hits) > 1 else ""
                commit = f", added in {_describe(added)}" if added else ""
                return Finding(
                    BRANCH_DRIFT,
                    Severity.ERROR,
                    f"deliverable {d.name!r}: {pattern} is not on {target.label} but is on "
                    f"{where}{commit}{also}",
                    path=pattern,
                    fix=f"bring it to {target.branch} (merge or cherry-pick"
                    f"{' ' + added.hexsha[:10] if added else ''}) and push",
                )
        what = "no file matches" if any(c in pattern for c in "*?[") else "missing:"
        return Finding(
            MISSING_PATH,
            Severity.ERROR,
            f"deliverable {d.name!r}: {what} {pattern} on {target.label}",
            path=pattern,
        )

    def _symbols(
        self,
        d: Deliverable,
        owned: Sequence[str],
        texts: Mapping[str, str],
        files: Mapping[str, str],
        target: Target,
    ) -> list[Finding]:
        findings: list[Finding] = []
        defined: dict[str, set[str]] = {}

        def symbols_in(path: str) -> set[str]:
            if path not in defined:
                defined[path] = defined_symbols(path, texts.get(path, ""))
            return defined[path]

        for symbol in d.symbols:
            if symbol.path is not None and symbol.path not in files:
                message = (
                    f"{symbol.path} (which should define {symbol.name}) is not on {target.label}"
                )
            elif any(
                symbol.name in symbols_in(p) for p in ([symbol.path] if symbol.path else owned)
            ):
                continue
            elif symbol.path:
                message = f"{symbol.name} is not defined in {symbol.path}"
            else:
                message = f"{symbol.name} is not defined in any of its files ({len(owned)})"
            findings.append(
                Finding(
                    MISSING_SYMBOL,
                    Severity.ERROR,
                    f"deliverable {d.name!r}: {message}",
                    path=symbol.path,
                )
            )
        return findings

    def _generated_only(self, report: Report, deliverables: Sequence[Deliverable]) -> list[Finding]:
        findings: list[Finding] = []
        rules: list[tuple[str, int, Deliverable | None]] = [
            (f"deliverable {d.name!r}", d.min_handwritten_lines, d)
            for d in deliverables
            if d.min_handwritten_lines
        ]
        if self.spec.min_handwritten_lines:
            rules.insert(0, (f"branch {report.branch}", self.spec.min_handwritten_lines, None))
        for label, minimum, deliverable in rules:
            entries = [
                e for e in report.diff if deliverable is None or deliverable.owns(e.change.path)
            ]
            hand = sum(e.change.insertions for e in entries if not e.verdict.generated)
            made = sum(e.change.insertions for e in entries if e.verdict.generated)
            if hand < minimum:
                findings.append(
                    Finding(
                        GENERATED_ONLY,
                        Severity.ERROR,
                        f"{label}: {hand:,} hand-written lines added ({made:,} generated lines "
                        f"set aside); at least {minimum:,} required",
                    )
                )
        return findings

    # ---- pre-push ----------------------------------------------------------------------------

    def _run_pre_push(self) -> Report:
        """Before `git push`: the pushed commit, judged against the branch it is pushed to."""
        env = self.request.environ
        remote_ref = env.get("PRE_COMMIT_REMOTE_BRANCH", "")
        remote = env.get("PRE_COMMIT_REMOTE_NAME", "") or self.request.remote
        if not remote_ref or not remote:
            raise UnusableInput(
                "--pre-push reads the refs pre-commit passes to a pre-push hook "
                "(PRE_COMMIT_REMOTE_BRANCH, PRE_COMMIT_REMOTE_NAME are not set): "
                "run `omc-dev verify` instead"
            )
        if not remote_ref.startswith("refs/heads/"):
            return Report(remote, remote_ref, "pre-push", mode="pre-push")  # e.g. a tag
        branch = _branch_name(remote_ref)
        refs = gitrefs.local_refs(self.git, remote).result()
        local_ref = env.get("PRE_COMMIT_LOCAL_BRANCH", "")
        local_branch = self.repo.branch if local_ref in ("", "HEAD") else _branch_name(local_ref)
        tip = env.get("PRE_COMMIT_TO_REF") or refs.heads.get(local_branch or "") or self.repo.head
        base = self._base(refs.default_branch)
        report = Report(remote, branch, "pre-push", base=base, mode="pre-push")
        target = Target(remote, branch, "pre-push", "push", tip)
        if local_branch and local_branch != branch and branch == base:
            report.findings.append(
                Finding(
                    BRANCH_DRIFT,
                    Severity.ERROR,
                    f"pushing local {local_branch} to {remote}/{base}, the base branch: track "
                    f"work belongs on {remote}/{local_branch}",
                    fix=f"git push {remote} {local_branch} (or `git push --no-verify` if this "
                    "is really meant for the base branch)",
                )
            )
        report.tip = tip
        report.base_tip = refs.tracking.get(base) or refs.heads.get(base)
        if tip is None or branch == base or report.base_tip is None:
            return report
        others = {b: sha for b, sha in refs.tracking.items() if b != branch}
        self.check_content(report, target, others)
        return report


def _count(items: Sequence[object], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _them(items: Sequence[object], plural: str = "them") -> str:
    return "it" if len(items) == 1 else plural


def _describe(commit: Commit) -> str:
    return f"{commit.hexsha[:10]} {commit.summary!r} by {commit.author.name}"


def _commits(commits: Sequence[Commit]) -> str:
    shown = ", ".join(_describe(c) for c in commits[:SHOWN_COMMITS])
    more = len(commits) - SHOWN_COMMITS
    return shown + (f" and {more} more" if more > 0 else "")

"""The verify pipeline: resolve the target, read the remote, then run the checks in order.

The checks are registered in the one Check shape (`devtools.report.checks`) on a `VerifyRun`:
where the work is comes first (`WHERE_CHECKS`: `shallow-clone`, `stale-remote-ref`,
`branch-missing`, `unpushed-commits`, `branch-drift`), then what the remote branch holds
(`CONTENT_CHECKS`: `missing-path`, `missing-symbol`, `empty-branch`, `stub`, `generated-only`).
Each check reads the same facts and reports with its own finding ids; none of them changes
anything except `fetch`, which only updates remote-tracking refs (and deepens a shallow clone).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from devtools.errors import UnusableInput
from devtools.findings import Finding, Severity
from devtools.git import history
from devtools.git import refs as git_refs
from devtools.git.errors import GitFailed, NoMergeBase
from devtools.git.history import FileChange
from devtools.git.objects import ObjectReader
from devtools.git.refs import LocalRefs, ServerRefs
from devtools.git.runner import Git, Pending
from devtools.report.checks import Check, Outcome, run_checks
from devtools.verify import objectmodel
from devtools.verify.binary import binary_problem
from devtools.verify.generated import Classifier, FileRef
from devtools.verify.linediff import changed_lines
from devtools.verify.model import (
    BRANCH_DRIFT,
    BRANCH_MISSING,
    EMPTY_BRANCH,
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
from devtools.verify.spec import Deliverable, Spec, path_regex
from devtools.verify.stubs import checks_code, defined_symbols, find_stubs

if TYPE_CHECKING:  # GitPython is imported while the first git calls run
    from git.objects import Commit

    from devtools.verify.gitmodel import LocalRepo

CI_BRANCH_VARIABLES = ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME")
DEFAULT_REMOTE = "origin"
DEFAULT_BASE = "main"
SHOWN_COMMITS = 3
# `generated-only` without a spec: at least this share of the added lines is generated, and
# the hand-written rest is mostly stubs.
PADDING_SHARE = 0.9


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


@dataclass
class VerifyRun:
    """One verification as its checks read and fill it in: the branch, the remote as read, and
    (for the content checks) the range's diff and what has been read of the tip so far."""

    verifier: Verifier
    report: Report
    target: Target
    view: RemoteView | None = None  # None before a push (pre-push reads no remote)
    pushed_from: str | None = None  # pre-push: the local branch being pushed
    others: Mapping[str, str] = field(default_factory=dict)  # other remote branches -> commit
    deliverables: list[Deliverable] = field(default_factory=list)  # the spec's, on this branch
    contents: dict[str, bytes | None] = field(default_factory=dict)  # tip files read, by path
    diff: Pending[list[FileChange]] | None = None  # base...tip, started before the checks
    classifier: Classifier | None = None
    found: list[Finding] = field(default_factory=list)  # findings of the checks run so far
    stubs: list[Finding] = field(default_factory=list)  # the stub check's (generated-only reads)

    @property
    def spec(self) -> Spec:
        return self.verifier.spec


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
        model = objectmodel.object_model()
        self.repo = model.LocalRepo(self.request.start, self.git, self.objects)

    def run(self) -> Report:
        if self.request.pre_push:
            self._open_repo()
            return self._run_pre_push()
        remote = self.request.remote or self.spec.remote or DEFAULT_REMOTE
        pending_refs = git_refs.local_refs(self.git, remote)
        # GitPython is imported while git works (a thread waiting on git holds no GIL).
        objectmodel.preload_object_model()
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
        server = git_refs.ls_remote(self.git, remote)
        target = self._target(remote, branch, source, refs)
        view = self._remote_view(target, refs, server.result())
        base = self._base(view.default_branch)
        report = Report(remote, branch, source, base=base, mode=view.mode)
        report.tip = tip = view.heads.get(branch)
        work = VerifyRun(self, report, target, view=view)
        _run(WHERE_CHECKS, work)
        if tip is None or branch == base:
            return report  # nothing on the remote to read, or no range to judge
        report.base_tip = view.heads.get(base)
        if report.base_tip is None:
            raise UnusableInput(
                f"the base branch {base!r} is not on {remote}: pass --base (or set base in "
                "[tool.omc-dev.verify])"
            )
        others = {b: sha for b, sha in view.heads.items() if b != branch}
        self.check_content(work, others)
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
            self._early_diff = (base_tip, tip, history.diff_range(self.git, base_tip, tip))

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
        return history.diff_range(self.git, base_tip, tip)

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
            git_refs.fetch(self.git, remote, unshallow=self.repo.shallow)
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
        # "up to date" read as if the branch were: say what is, the clone's copy of the refs
        mode = "--no-fetch" if not self.request.fetch else f"refs match {remote}"
        return RemoteView(heads, server.commits, server.default_branch, mode, findings)

    # ---- where the work is -------------------------------------------------------------------

    def check_where(self, work: VerifyRun) -> list[Finding]:
        """`branch-missing`, `unpushed-commits`, `branch-drift` (for commits)."""
        if work.view is None:
            return self._pushed_to_base(work)
        target, view, tip = work.target, work.view, work.report.tip
        local = target.local_tip
        if tip is None:
            return self._branch_missing(target, view)
        if local is None or local == tip:
            return []
        if target.local_kind == "detached":
            shas = history.commits_between(self.git, local, view.server_commits, first_parent=False)
            if not shas:
                return []
            return [self._unpushed(target, self.repo.commits(shas), where="HEAD (detached)")]
        # The branch's own line of work: merges brought in from elsewhere are not drift.
        shas = history.commits_between(self.git, local, [tip], first_parent=True)
        on_other = history.remote_branches_containing(
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
        on_other = history.remote_branches_containing(
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

    def check_content(self, work: VerifyRun, others: Mapping[str, str]) -> None:
        """Start the range's diff, then run the content checks on what the remote branch holds."""
        report, target = work.report, work.target
        assert report.tip and report.base_tip
        # The diff is the long pole: git computes it while the deliverables are read.
        work.diff = self._diff(report.base_tip, report.tip)
        work.classifier = Classifier(self.objects, report.tip, self.spec.generated)
        work.deliverables = [d for d in self.spec.deliverables if d.applies_to(target.branch)]
        report.deliverables = [d.name for d in work.deliverables]
        work.others = others
        _run(CONTENT_CHECKS, work)

    def deliverables_on_branch(self, work: VerifyRun) -> list[Finding]:
        """`missing-path` and `missing-symbol` for the spec's deliverables on this branch."""
        report = work.report
        assert report.tip
        files = history.list_files(self.git, report.tip)
        return self._deliverables(
            work.deliverables,
            files,
            work.contents,
            target=work.target,
            report=report,
            others=work.others,
        )

    def classify(self, work: VerifyRun) -> list[FileChange]:
        """The range's changed files, each with its generated-or-not verdict, into the report."""
        report, target = work.report, work.target
        assert work.diff is not None and work.classifier is not None
        try:
            changes = work.diff.result()
        except NoMergeBase:
            pair = f"{target.remote}/{report.base} and {target.label}"
            if self.repo.shallow:
                rerun = "" if self.request.pre_push else "run without --no-fetch, or "
                raise UnusableInput(
                    f"{pair} have no merge base in this shallow clone (their common history is "
                    f"cut off): {rerun}deepen it with `git fetch --unshallow {target.remote}`"
                ) from None
            raise UnusableInput(f"{pair} share no history: is --base right?") from None
        verdicts = work.classifier.classify(
            [FileRef(c.path, None if c.binary else c.blob) for c in changes], work.contents
        )
        report.diff = [DiffEntry(c, verdicts[c.path]) for c in changes]
        return changes

    def nothing_changed(self, work: VerifyRun) -> list[Finding]:
        """base...branch is empty: merged into the base, or no work at all."""
        report, target = work.report, work.target
        assert report.tip and report.base_tip
        base = f"{target.remote}/{report.base}"
        push = f"git push {target.remote} {target.branch}"
        fix = f"commit the work on {target.branch} and push it (`{push}`)"
        if any(f.id in (UNPUSHED, BRANCH_DRIFT) for f in work.found):
            return []  # the work is elsewhere, and those findings say where
        if self.request.pre_push:
            # Pushing a new branch before its first commit starts work; it claims none done.
            report.notes.append(f"{target.label} has no commits beyond {report.base} yet")
            return []
        if not history.is_ancestor(self.git, report.tip, report.base_tip):
            return [
                Finding(
                    EMPTY_BRANCH,
                    Severity.ERROR,
                    f"{target.label} changes nothing relative to {base}: its commits since "
                    "they parted add and remove the same lines",
                    fix=fix,
                )
            ]
        if self.repo.committed_on(target.branch, report.tip):
            # This clone's reflog shows the tip committed on the branch: real work, since
            # fast-forwarded into the base (a fresh CI clone cannot tell, and says so below).
            report.notes.append(f"{target.label} is merged into {report.base} (fast-forward)")
            return []
        if history.on_first_parent_line(self.git, report.tip, report.base_tip):
            return [
                Finding(
                    EMPTY_BRANCH,
                    Severity.ERROR,
                    f"{target.label} has no commits beyond {base}: its tip {report.tip[:10]} "
                    f"is a commit of {report.base}'s own history, so nothing was committed on "
                    f"it (or it was fast-forwarded into {report.base})",
                    fix=fix,
                )
            ]
        # Merged with a merge commit: base...branch is empty because the work is in the base.
        report.notes.append(f"{target.label} is merged into {report.base}")
        return []

    def _deliverables(
        self,
        deliverables: Sequence[Deliverable],
        files: Mapping[str, str],
        contents: dict[str, bytes | None],
        *,
        target: Target,
        report: Report,
        others: Mapping[str, str],
    ) -> list[Finding]:
        """`missing-path` and `missing-symbol`; what the deliverables' files hold is read into
        `contents` (the stub check reads the changed ones from there)."""
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
        contents.update(zip(wanted, self.objects.blobs([files[p] for p in wanted]), strict=True))
        texts = {p: text for p in wanted if (text := _text(contents[p])) is not None}
        binary_reported: set[str] = set()  # a file shared by two deliverables is reported once
        for d in deliverables:
            for path in owned[d.name]:
                problem = binary_problem(path, contents[path] or b"")
                if problem and path not in binary_reported:
                    binary_reported.add(path)
                    message = f"deliverable {d.name!r}: {problem}"
                    findings.append(Finding(STUB, Severity.ERROR, message, path=path))
            findings += self._symbols(d, owned[d.name], texts, files, target)
        return findings

    def stubs(
        self,
        report: Report,
        deliverables: Sequence[Deliverable],
        contents: dict[str, bytes | None],
    ) -> list[Finding]:
        """Stubs in the lines the branch added or changed, in its hand-written files.

        A file a deliverable names gets every rule; any other changed file the code rules
        (functions and components that do nothing), not TODO markers. Files the branch did not
        touch are never judged.
        """
        owner: dict[str, Deliverable] = {}
        entries: list[DiffEntry] = []
        for entry in report.diff:
            change = entry.change
            if entry.verdict.generated or change.binary or not change.new_blob:
                continue
            if not change.insertions:
                continue  # only deletions: nothing added to judge
            d = next((d for d in deliverables if d.paths and d.owns(change.path)), None)
            if d is None and not checks_code(change.path):
                continue
            if d is not None:
                owner[change.path] = d
            entries.append(entry)
        # One batch for every blob still needed: the new side, and the old side of edits.
        names: list[str] = [
            e.change.new_blob or "" for e in entries if e.change.path not in contents
        ]
        olds = [e for e in entries if e.change.status != "A" and e.change.old_blob]
        names += [e.change.old_blob or "" for e in olds]
        read = iter(self.objects.blobs(names))
        for entry in entries:
            if entry.change.path not in contents:
                contents[entry.change.path] = next(read)
        old_texts = {e.change.path: _text(next(read)) for e in olds}
        findings: list[Finding] = []
        for entry in entries:
            path = entry.change.path
            text = _text(contents[path])
            if text is None:
                continue
            d = owner.get(path)
            lines = changed_lines(old_texts.get(path), text)
            for stub in find_stubs(
                path,
                text,
                min_lines=self.spec.stub_min_lines,
                lines=lines,
                code_only=d is None,
            ):
                message = f"deliverable {d.name!r}: {stub.message}" if d else stub.message
                findings.append(Finding(STUB, stub.severity, message, path=path, line=stub.line))
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
                sha = history.commit_adding(self.git, others[hits[0]], pattern.strip("/"))
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

    def generated_only(
        self, report: Report, deliverables: Sequence[Deliverable], stubs: Sequence[Finding]
    ) -> list[Finding]:
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
        if not findings:
            findings += self._padding(report, stubs)
        return findings

    def _padding(self, report: Report, stubs: Sequence[Finding]) -> list[Finding]:
        """Nearly every added line generated, and the hand-written rest mostly stubs: generated
        bulk around work that was not done (needs no spec)."""
        hand = [e for e in report.diff if not e.verdict.generated and e.change.insertions]
        made = sum(e.change.insertions for e in report.diff if e.verdict.generated)
        hand_lines = sum(e.change.insertions for e in hand)
        total = made + hand_lines
        if not hand_lines or made < PADDING_SHARE * total:
            return []
        stubbed = {f.path for f in stubs if f.severity is Severity.ERROR}
        in_stubs = [e for e in hand if e.change.path in stubbed]
        stub_lines = sum(e.change.insertions for e in in_stubs)
        if not in_stubs or 2 * stub_lines < hand_lines:
            return []
        shown = ", ".join(e.change.path for e in in_stubs[:3])
        more = f" and {len(in_stubs) - 3} more" if len(in_stubs) > 3 else ""
        return [
            Finding(
                GENERATED_ONLY,
                Severity.ERROR,
                f"branch {report.branch}: {made:,} of the {total:,} added lines are generated, "
                f"and {stub_lines:,} of the {hand_lines:,} hand-written lines are in files with "
                f"stubs ({shown}{more})",
                fix="write the hand-written part; generated code alone is not the work",
            )
        ]

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
        refs = git_refs.local_refs(self.git, remote).result()
        local_ref = env.get("PRE_COMMIT_LOCAL_BRANCH", "")
        local_branch = self.repo.branch if local_ref in ("", "HEAD") else _branch_name(local_ref)
        tip = env.get("PRE_COMMIT_TO_REF") or refs.heads.get(local_branch or "") or self.repo.head
        base = self._base(refs.default_branch)
        report = Report(remote, branch, "pre-push", base=base, mode="pre-push")
        target = Target(remote, branch, "pre-push", "push", tip)
        work = VerifyRun(self, report, target, pushed_from=local_branch)
        _run(WHERE_CHECKS, work)
        report.tip = tip
        report.base_tip = refs.tracking.get(base) or refs.heads.get(base)
        if tip is None or branch == base or report.base_tip is None:
            return report
        others = {b: sha for b, sha in refs.tracking.items() if b != branch}
        self.check_content(work, others)
        return report

    def _pushed_to_base(self, work: VerifyRun) -> list[Finding]:
        """Before a push: local work pushed onto the base branch is drift."""
        local, target, base = work.pushed_from, work.target, work.report.base
        if not local or local == target.branch or target.branch != base:
            return []
        remote = target.remote
        return [
            Finding(
                BRANCH_DRIFT,
                Severity.ERROR,
                f"pushing local {local} to {remote}/{base}, the base branch: track "
                f"work belongs on {remote}/{local}",
                fix=f"git push {remote} {local} (or `git push --no-verify` if this "
                "is really meant for the base branch)",
            )
        ]


def _text(data: bytes | None) -> str | None:
    """A file's text, or None when it is missing or binary."""
    if data is None or b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", "replace")


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


# ---- the checks, registered in the one Check shape ------------------------------------------------


def _run(checks: Sequence[Check[VerifyRun]], work: VerifyRun) -> None:
    results = run_checks(checks, work)
    work.report.checks += results
    work.report.findings += [f for result in results for f in result.findings]


def _found(work: VerifyRun, findings: list[Finding], detail: str) -> Outcome:
    """An outcome whose findings later checks of the same run may read (before the report has
    them: `run_checks` hands them over when the whole group is done)."""
    work.found += findings
    return Outcome(detail, findings)


def _remote(work: VerifyRun) -> Outcome:
    """`shallow-clone` and `stale-remote-ref`: how far the answer can be trusted."""
    if work.view is None:
        return Outcome("pre-push: the pushed commit, not the remote")
    return _found(work, work.view.findings, work.view.mode)


def _where(work: VerifyRun) -> Outcome:
    return _found(work, work.verifier.check_where(work), work.target.label)


def _deliverables_check(work: VerifyRun) -> Outcome:
    if not work.deliverables:
        return Outcome("no deliverables declared for this branch")
    found = work.verifier.deliverables_on_branch(work)
    return _found(work, found, _count(work.deliverables, "deliverable"))


def _classification(work: VerifyRun) -> Outcome:
    """The range's files, generated ones set aside; `empty-branch` when nothing changed."""
    changes = work.verifier.classify(work)
    if not changes:
        return _found(work, work.verifier.nothing_changed(work), "nothing changed")
    made = sum(e.verdict.generated for e in work.report.diff)
    return Outcome(f"{_count(changes, 'file')} changed, {made} generated")


def _stubs_check(work: VerifyRun) -> Outcome:
    if not work.report.diff:
        return Outcome("nothing changed")
    work.stubs = work.verifier.stubs(work.report, work.deliverables, work.contents)
    return _found(work, work.stubs, "the lines the branch added")


def _generated_only_check(work: VerifyRun) -> Outcome:
    if not work.report.diff:
        return Outcome("nothing changed")
    found = work.verifier.generated_only(work.report, work.deliverables, work.stubs)
    return _found(work, found, "hand-written and generated lines")


# Where the work is: run on every branch, before anything of its content is read.
WHERE_CHECKS: tuple[Check[VerifyRun], ...] = (
    Check("remote", "The remote's refs as read", _remote),
    Check("where", "The work is on the remote branch", _where),
)
# What the remote branch holds: run when it is on the remote and is not the base.
CONTENT_CHECKS: tuple[Check[VerifyRun], ...] = (
    Check("deliverables", "The spec's deliverables are on the branch", _deliverables_check),
    Check("classification", "The range's generated files set aside", _classification),
    Check("stubs", "No stubs in the lines the branch added", _stubs_check, ("classification",)),
    Check(
        "generated-only",
        "The work is not generated padding",
        _generated_only_check,
        ("classification",),
    ),
)
CHECKS = WHERE_CHECKS + CONTENT_CHECKS

"""Which changed files a tool wrote, so the diff statistics can set them aside.

A file's verdict comes from the first source that has one, in the order GitHub's linguist uses
(the repository's own word first):

1. the spec's `generated` globs (`[tool.omc-dev.verify] generated = ["web/src/client/**"]`);
2. `.gitattributes` at the ref: `linguist-generated` / `gitlab-generated` (set or unset either
   way), `linguist-vendored`;
3. what generators say they wrote: `.openapi-generator/FILES` manifests; the output folders
   that an `openapi-ts.config.*`, `openapitools.json` or a `package.json` script running
   either generator names, and the folder holding an
   `.openapi-generator-ignore` (less the files it protects) (`generators`);
4. path rules: lock files, vendored dependency folders, minified files and source maps,
   `*.gen.ts`, protobuf outputs;
5. header markers in the first 40 lines (comment lines only) for the common generators.

Configs and manifests are looked for in every folder above a classified file. Everything is
read at a git ref through one `cat-file --batch` process: no checkout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field

from devtools.git.objects import ObjectReader
from devtools.verify import generators
from devtools.verify.globs import compile_glob, is_glob, translate

HEADER_LINES = 40


@dataclass(frozen=True)
class Verdict:
    generated: bool
    reason: str


HANDWRITTEN = Verdict(False, "hand-written")

# ---- 1. .gitattributes -------------------------------------------------------------------------

GENERATED_ATTRS = ("linguist-generated", "gitlab-generated")
VENDORED_ATTR = "linguist-vendored"


@dataclass(frozen=True)
class AttrRule:
    base: str  # folder of the .gitattributes file, "" at the root
    regex: re.Pattern[str]
    attr: str
    value: bool | None  # set/true, unset/false, or None for `!attr` (back to unspecified)
    source: str

    def matches(self, path: str) -> bool:
        if self.base:
            if not path.startswith(self.base) or path[len(self.base) : len(self.base) + 1] != "/":
                return False
            path = path[len(self.base) + 1 :]
        return self.regex.fullmatch(path) is not None


def _unquote(pattern: str) -> str:
    # git accepts C-style quoted patterns for names with spaces
    return pattern[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def parse_gitattributes(text: str, base: str) -> list[AttrRule]:
    """The rules of one `.gitattributes` file that concern generated or vendored code."""
    rules: list[AttrRule] = []
    source = f"{base}/.gitattributes" if base else ".gitattributes"
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("[attr]"):
            continue
        if line.startswith('"'):
            end = line.find('"', 1)
            while end > 0 and line[end - 1] == "\\":
                end = line.find('"', end + 1)
            if end < 0:
                continue
            pattern, rest = _unquote(line[: end + 1]), line[end + 1 :]
        else:
            pattern, *more = line.split(None, 1)
            rest = more[0] if more else ""
        if pattern.endswith("/"):
            continue  # matches folders only, and attributes do not recurse into them
        if "/" in pattern.rstrip("/"):
            regex = translate(pattern.lstrip("/"))
        else:
            regex = "(?:[^/]+/)*" + translate(pattern)  # a bare name matches at any depth
        compiled = re.compile(regex)
        for token in rest.split():
            name, has_value, value = token.partition("=")
            state: bool | None
            if name.startswith("-"):
                name, state = name[1:], False
            elif name.startswith("!"):
                name, state = name[1:], None
            elif has_value:
                state = value.strip().lower() not in ("false", "0", "no", "off")
            else:
                state = True
            if name in (*GENERATED_ATTRS, VENDORED_ATTR):
                rules.append(AttrRule(base, compiled, name, state, source))
    return rules


def attribute_verdict(rules: Sequence[AttrRule], path: str) -> Verdict | None:
    """Later rules win; rules from deeper folders come later (git's precedence)."""
    generated: tuple[bool | None, AttrRule] | None = None
    vendored: AttrRule | None = None
    for rule in rules:
        if not rule.matches(path):
            continue
        if rule.attr == VENDORED_ATTR:
            vendored = rule if rule.value else None
        else:
            generated = (rule.value, rule)
    if generated is not None and generated[0] is not None:
        value, rule = generated
        return Verdict(value, f"{rule.attr} in {rule.source}") if value else HANDWRITTEN
    if vendored is not None:
        return Verdict(True, f"{VENDORED_ATTR} in {vendored.source}")
    return None


# ---- 3. path rules (linguist's generated.rb and vendor.yml, the parts about code) -----------

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
        "bun.lockb",
        "Cargo.lock",
        "composer.lock",
        "Gemfile.lock",
        "poetry.lock",
        "pdm.lock",
        "Pipfile.lock",
        "uv.lock",
        "go.sum",
        "Gopkg.lock",
        "glide.lock",
        "flake.lock",
        "mix.lock",
        "pubspec.lock",
        "Podfile.lock",
        "Package.resolved",
        "packages.lock.json",
        ".terraform.lock.hcl",
    }
)


class RuleSet:
    """Regexes searched as one alternation (one pass per text); the alternative that matched
    names the reason."""

    def __init__(self, rules: Sequence[tuple[str, str]], flags: int = 0) -> None:
        self.rules = tuple(rules)
        self._regex = re.compile(
            "|".join(f"(?P<r{i}>{regex})" for i, (regex, _) in enumerate(self.rules)), flags
        )

    def reason(self, text: str, pos: int = 0) -> str | None:
        match = self._regex.search(text, pos)
        if match is None or match.lastgroup is None:
            return None
        return self.rules[int(match.lastgroup[1:])][1]


PATH_RULES = RuleSet(
    [
        (r"(?:^|/)(?:node_modules|bower_components)/", "vendored dependencies"),
        (r"(?:^|/)(?:[Vv]endors?|third[-_]?party|3rd[-_]?party)/", "vendored folder"),
        (r"(?:^|/)Godeps/_workspace/", "vendored dependencies"),
        (r"(?:^|/)(?:Pods|Carthage/Build)/", "vendored dependencies"),
        (r"(?:^|/)\.yarn/(?:releases|plugins|sdks|unplugged|cache)/", "vendored dependencies"),
        (r"(?:^|/)\.pnp\.[^/]*$", "Yarn Plug'n'Play loader"),
        (r"(?:^|/)dist/", "distribution folder (dist/)"),
        (r"(?:\.|-)min\.(?:js|css)$", "minified file"),
        (r"\.(?:js|css)\.map$", "source map"),
        (r"(?:^|/)__generated__/", "generated folder (__generated__/)"),
        (r"\.gen\.(?:d\.)?tsx?$", "*.gen.ts"),
        (r"_pb2(?:_grpc)?\.pyi?$|\.pb\.(?:go|cc|h)$|\.pb\.gw\.go$", "protobuf output"),
        (r"\.designer\.(?:cs|vb)$|\.feature\.cs$", ".NET designer output"),
        (r"(?:^|/)\.openapi-generator/|(?:^|/)\.openapi-generator-ignore$", "openapi-generator"),
    ]
)


def path_verdict(path: str) -> Verdict | None:
    if path.rpartition("/")[2] in LOCK_FILES:
        return Verdict(True, "lock file")
    reason = PATH_RULES.reason(path)
    return Verdict(True, reason) if reason else None


# ---- 4. header markers -------------------------------------------------------------------------

# Only comment lines count: a test asserting on a header string is not itself generated.
_COMMENT = re.compile(r"^\s*(?://+|#+|/\*+|\*+|--|;+|<!--|%+|')")

HEADER_MARKERS = RuleSet(
    [
        (r"Code generated .*DO NOT EDIT", "Go 'Code generated ... DO NOT EDIT.' header"),
        (r"@generated\b", "@generated marker"),
        (r"OpenAPI Generator|openapi-generator\.tech", "openapi-generator header"),
        (r"@hey-api/openapi-ts", "@hey-api/openapi-ts header"),
        (r"auto-generated by openapi-typescript", "openapi-typescript header"),
        (r"Generated by orval", "orval header"),
        (r"generated by datamodel-codegen", "datamodel-codegen header"),
        (r"Generated by the protocol buffer compiler", "protobuf header"),
        (r"Autogenerated by Thrift", "Thrift header"),
    ],
    re.IGNORECASE,
)


def header_verdict(path: str, data: bytes) -> Verdict | None:
    head = data[: 64 * 1024].split(b"\n", HEADER_LINES)[:HEADER_LINES]
    for raw in head:
        line = raw.decode("utf-8", "replace")
        comment = _COMMENT.match(line)
        if not comment:
            continue
        reason = HEADER_MARKERS.reason(line, comment.end())
        if reason:
            return Verdict(True, reason)
    if path.endswith((".js", ".css")) and _looks_minified(data):
        return Verdict(True, "minified file")
    return None


def _looks_minified(data: bytes) -> bool:
    # linguist: JS/CSS whose average line is longer than 110 characters
    lines = data.split(b"\n")
    return bool(lines) and sum(len(line) for line in lines) / len(lines) > 110


# ---- the classifier ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRef:
    path: str
    blob: str | None  # the blob to read headers from; None when there is none (binary, gone)


def _ancestors(folder: str) -> list[str]:
    """`a/b` -> ["", "a", "a/b"]: the folders whose files apply to paths in `folder`."""
    if not folder:
        return [""]
    parts = folder.split("/")
    return [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _folder(path: str) -> str:
    return path.rpartition("/")[0]


# Files whose presence in a folder says something about generated code there.
_FOLDER_FILES = (
    ".gitattributes",
    generators.OPENAPITOOLS,
    generators.OPENAPI_GENERATOR_IGNORE,
    generators.PACKAGE_JSON,
    *generators.OPENAPI_TS_CONFIGS,
)
_MANIFEST = ".openapi-generator/FILES"


_NEEDLES = tuple(f" {name}\0".encode() for name in (*_FOLDER_FILES, ".openapi-generator"))


def _tree_entries(tree: bytes) -> dict[str, bool]:
    """A tree object's entries, name -> is a folder; only parsed when one of the names verify
    looks for may be there (most folders hold none of them)."""
    if not any(needle in tree for needle in _NEEDLES):
        return {}
    entries: dict[str, bool] = {}
    at = 0
    while at < len(tree):  # "<mode> <name>\0<20-byte id>", folders have mode 40000
        space = tree.index(b" ", at)
        end = tree.index(b"\0", space)
        entries[tree[space + 1 : end].decode("utf-8", "surrogateescape")] = (
            tree[at:space] == b"40000"
        )
        at = end + 21
    return entries


@dataclass
class Classifier:
    """Classifies files at one commit; `.gitattributes`, manifests and generator configs are
    read once per folder.

    `globs`: the spec's `generated` patterns, from the repository root.
    """

    objects: ObjectReader
    rev: str
    globs: Sequence[str] = ()
    _globs: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    _attr_rules: dict[str, list[AttrRule]] = field(default_factory=dict)  # by attributes file
    _rules_in: dict[str, list[AttrRule]] = field(default_factory=dict)  # by folder of a path
    _manifest: dict[str, str] = field(default_factory=dict)  # generated path -> manifest
    _manifest_folders: set[str] = field(default_factory=set)
    _outputs: dict[str, str] = field(default_factory=dict)  # output folder -> reason
    _protected: list[tuple[re.Pattern[str], bool]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _verdicts: dict[str, Verdict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a glob, else a file or a folder with everything in it (as deliverable paths)
        globs = [g.strip("/") for g in self.globs]
        self._globs = [
            (g, compile_glob(g) if is_glob(g) else re.compile(re.escape(g) + "(?:/.*)?"))
            for g in globs
        ]

    def _load_folders(self, paths: Iterable[str]) -> None:
        wanted = {a for folder in {_folder(p) for p in paths} for a in _ancestors(folder)}
        folders = sorted(wanted - self._seen)
        if not folders:
            return
        self._seen.update(folders)
        self._rules_in.clear()
        # Round trip 1: each folder's tree (what is there); 2: the files that matter.
        trees = self.objects.read([f"{self.rev}:{folder}" for folder in folders])
        names: list[tuple[str, str]] = []  # (folder, file name in it)
        for folder, tree in zip(folders, trees, strict=True):
            if tree is None or tree.type != "tree":
                continue
            entries = _tree_entries(tree.data)
            names += [(folder, n) for n in _FOLDER_FILES if entries.get(n) is False]
            if entries.get(".openapi-generator"):
                names.append((folder, _MANIFEST))
        blobs = self.objects.blobs([f"{self.rev}:{_join(f, n)}" for f, n in names])
        for (folder, name), data in zip(names, blobs, strict=True):
            if data is not None:
                self._read_folder_file(folder, name, data.decode("utf-8", "replace"))

    def _read_folder_file(self, folder: str, name: str, text: str) -> None:
        source = _join(folder, name)
        prefix = f"{folder}/" if folder else ""
        if name == ".gitattributes":
            self._attr_rules[folder] = parse_gitattributes(text, folder)
        elif name == _MANIFEST:
            self._manifest_folders.add(folder)
            for line in text.splitlines():
                entry = line.strip().removeprefix("./")
                if entry and not entry.startswith("#"):
                    self._manifest[prefix + entry] = source
        elif name == generators.OPENAPI_GENERATOR_IGNORE:
            self._outputs.setdefault(
                folder, f"in openapi-generator's output folder {folder or '.'}/ ({source})"
            )
            self._protected += generators.ignore_patterns(text, folder)
        elif name == generators.PACKAGE_JSON:
            for output, script in generators.package_script_outputs(text, folder):
                self._outputs.setdefault(output, f"named by {source} script {script!r} output")
        elif name == generators.OPENAPITOOLS:
            for output in generators.openapitools_outputs(text, folder):
                self._outputs.setdefault(output, f"named by {source} output")
        else:  # an openapi-ts config
            for output in generators.openapi_ts_outputs(text, folder):
                self._outputs.setdefault(output, f"named by {source} output")

    def _rules_for(self, path: str) -> list[AttrRule]:
        folder = _folder(path)
        rules = self._rules_in.get(folder)
        if rules is None:
            # root first, deepest last: deeper files override shallower ones
            rules = [r for d in _ancestors(folder) for r in self._attr_rules.get(d, ())]
            self._rules_in[folder] = rules
        return rules

    def _output_verdict(self, path: str) -> Verdict | None:
        """Inside a folder a generator's config names as its output."""
        for folder in reversed(_ancestors(_folder(path))):
            reason = self._outputs.get(folder)
            if reason is None:
                continue
            if folder in self._manifest_folders:
                return None  # its manifest says exactly what it wrote
            protected = False
            for regex, negated in self._protected:
                if regex.fullmatch(path):
                    protected = not negated
            if protected:
                ignore = _join(folder, generators.OPENAPI_GENERATOR_IGNORE)
                return Verdict(False, f"hand-written (protected by {ignore})")
            return Verdict(True, reason)
        return None

    def by_path(self, path: str) -> Verdict | None:
        """The verdict that needs no file content, or None when only the content can tell."""
        for glob, regex in self._globs:
            if regex.fullmatch(path):
                return Verdict(True, f"matches {glob} ([tool.omc-dev.verify] generated)")
        rules = self._rules_for(path)
        verdict = attribute_verdict(rules, path) if rules else None
        if verdict is not None:
            return verdict
        if path in self._manifest:
            return Verdict(True, f"listed in {self._manifest[path]}")
        if self._outputs:
            verdict = self._output_verdict(path)
            if verdict is not None:
                return verdict
        return path_verdict(path)

    def classify(
        self,
        files: Sequence[FileRef],
        contents: MutableMapping[str, bytes | None] | None = None,
    ) -> dict[str, Verdict]:
        """A verdict for each file (the same path is only classified once per commit).

        `contents`: files the caller has read already (by path), so they are not read again;
        the files read here to look at their headers are added to it.
        """
        known = contents if contents is not None else {}
        todo = [ref for ref in files if ref.path not in self._verdicts]
        self._load_folders(ref.path for ref in todo)
        pending: list[FileRef] = []
        for ref in todo:
            verdict = self.by_path(ref.path)
            if verdict is not None:
                self._verdicts[ref.path] = verdict
            elif ref.blob is None:
                self._verdicts[ref.path] = HANDWRITTEN
            else:
                pending.append(ref)
        unread = [ref for ref in pending if ref.path not in known]
        names = [ref.blob for ref in unread if ref.blob]  # every pending file has a blob
        for ref, data in zip(unread, self.objects.blobs(names), strict=True):
            known[ref.path] = data
        for ref in pending:
            data = known[ref.path]
            verdict = header_verdict(ref.path, data) if data is not None else None
            self._verdicts[ref.path] = verdict or HANDWRITTEN
        return {ref.path: self._verdicts[ref.path] for ref in files}


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name

"""The compose files as written, with line numbers: what `docker compose config` cannot tell.

The resolved config merges `env_file` values into `environment` and drops the file names, and it
has no line numbers. Environment checks need both, so this reads the raw YAML node tree (PyYAML's
`compose`, which keeps positions and tolerates compose's custom tags such as `!override`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from devtools.errors import UnusableInput

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR:+alt}, $VAR; "$$" is a literal "$".
_INTERPOLATION = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class EnvFileRef:
    service: str
    path: Path  # resolved against the project folder
    required: bool
    file: Path  # the compose file that names it
    line: int


@dataclass(frozen=True)
class EnvironmentEntry:
    service: str
    name: str
    value: str | None  # as written (may hold ${...}); None for a bare pass-through name
    file: Path
    line: int


@dataclass(frozen=True)
class VariableUse:
    """`${NAME}` in a compose file; `host_side` when it sets a published port or a bind source."""

    name: str
    default: str | None
    file: Path
    line: int
    host_side: bool = False
    service: str | None = None


@dataclass(frozen=True)
class ComposeSource:
    files: tuple[Path, ...]  # the project's own files (`-f`), in order
    env_files: tuple[EnvFileRef, ...]
    environment: tuple[EnvironmentEntry, ...]
    variables: tuple[VariableUse, ...]
    # Every file read: the project's files and those they `include:` or `extends:` from.
    read_files: tuple[Path, ...] = ()
    # Each service's `profiles:` as written (empty: always active), for Compose's profile rules.
    profiles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def project_dir(self) -> Path:
        return self.files[0].parent

    def host_side_variables(self) -> dict[str, VariableUse]:
        return {v.name: v for v in self.variables if v.host_side}


def variables_in(text: str) -> Iterator[tuple[str, str | None]]:
    """(name, default) for every interpolation in `text`."""
    for match in _INTERPOLATION.finditer(text):
        name = match.group("braced") or match.group("bare")
        if name:
            op = match.group("op") or ""
            yield name, (match.group("arg") if op.endswith("-") else None)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def input_problem(files: Sequence[Path]) -> str | None:
    """`file:line: what` for the first compose file or env file that does not parse, else None.

    Used after compose refused the project, to name the exact line.
    """
    from devtools.compose.dotenv import parse_file

    try:
        source = read_source(files)
        for path in (source.project_dir / ".env", *(r.path for r in source.env_files)):
            if path.is_file():
                parse_file(path)
    except UnusableInput as exc:
        return str(exc)
    return None


def _load(path: Path) -> yaml.Node | None:
    from devtools.compose.aliases import check_expansion

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise UnusableInput(f"{path}:{line}: not UTF-8 text: save the file as UTF-8") from None
    check_expansion(path)  # the walks below visit every alias's copy
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise UnusableInput(f"{path}: invalid YAML: nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise UnusableInput(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:  # a ReaderError says where on a second line: keep the first
        reason = next(iter(str(exc).splitlines()), type(exc).__name__)
        raise UnusableInput(f"{path}: invalid YAML: {reason}") from None


def _mapping(node: yaml.Node | None) -> list[tuple[yaml.Node, yaml.Node]]:
    """The pairs of a mapping, with `<<: *anchor` merges flattened (explicit keys first)."""
    if not isinstance(node, yaml.MappingNode):
        return []
    own = [(k, v) for k, v in node.value if _scalar(k) != "<<"]
    merged = []
    for key, value in node.value:
        if _scalar(key) == "<<":
            for source in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                merged += _mapping(source)
    names = {_scalar(k) for k, _ in own}
    return own + [(k, v) for k, v in merged if _scalar(k) not in names]


def _scalar(node: yaml.Node | None) -> str | None:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    return None


def _items(node: yaml.Node | None) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return [node] if isinstance(node, yaml.ScalarNode) else []


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    for k, v in _mapping(node):
        if _scalar(k) == key:
            return v
    return None


def _scalars(node: yaml.Node | None) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _scalars(child)
    elif isinstance(node, yaml.MappingNode):
        for _key, value in node.value:
            yield from _scalars(value)


def _env_files(
    service: str, node: yaml.Node | None, file: Path, project_dir: Path
) -> list[EnvFileRef]:
    refs = []
    for item in _items(node):
        path = _scalar(item)
        required = True
        if path is None:
            path = _scalar(_get(item, "path"))
            flag = _scalar(_get(item, "required"))
            required = flag is None or flag.lower() not in ("false", "no", "0")
        if path:
            refs.append(EnvFileRef(service, project_dir / path, required, file, _line(item)))
    return refs


def _environment(service: str, node: yaml.Node | None, file: Path) -> list[EnvironmentEntry]:
    entries = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = _scalar(key)
            if name is None:
                continue
            raw = _scalar(value)
            is_null = isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null")
            entries.append(
                EnvironmentEntry(service, name, None if is_null else raw, file, _line(key))
            )
    else:
        for item in _items(node):
            text = _scalar(item)
            if text is None:
                continue
            name, sep, value = text.partition("=")
            entries.append(
                EnvironmentEntry(service, name.strip(), value if sep else None, file, _line(item))
            )
    return entries


def _before_colon(text: str) -> str:
    """The part before the first `:` that is not inside `${...}` (`${SRC:-.}:/src` -> `${SRC:-.}`)."""
    depth = 0
    for i, char in enumerate(text):
        if text.startswith("${", i):
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == ":" and not depth:
            return text[:i]
    return text


def _host_side(service: str, svc: yaml.Node, file: Path) -> list[VariableUse]:
    """Variables in the host half of `ports` and in bind-mount sources."""
    halves: list[tuple[yaml.Node, str]] = []
    for section, short, long_key in (
        ("ports", lambda t: t.rpartition(":")[0], "published"),
        ("volumes", _before_colon, "source"),
    ):
        for item in _items(_get(svc, section)):
            text = _scalar(item)
            node = item if text is not None else _get(item, long_key)
            value = short(text) if text is not None else _scalar(node)
            if node is not None and value:
                halves.append((node, value))
    return [
        VariableUse(name, default, file, _line(node), True, service)
        for node, value in halves
        for name, default in variables_in(value)
    ]


@dataclass
class _Reader:
    """Walks the compose files as Compose assembles them: each `-f` file, the files it
    `include:`s, and the services a service `extends:` (from its own or another file)."""

    env_files: list[EnvFileRef] = field(default_factory=list)
    environment: list[EnvironmentEntry] = field(default_factory=list)
    variables: list[VariableUse] = field(default_factory=list)
    profiles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    read: list[Path] = field(default_factory=list)
    _trees: dict[Path, yaml.Node | None] = field(default_factory=dict)

    def tree(self, file: Path) -> yaml.Node | None:
        if file not in self._trees:
            self._trees[file] = _load(file)
            self.read.append(file)
            self._variables(file, self._trees[file])
        return self._trees[file]

    def read_file(self, file: Path, base: Path, seen: frozenset[Path] = frozenset()) -> None:
        """One project file whose relative paths resolve against `base`, and its includes."""
        if file in seen:
            return  # an include cycle: compose refuses it and says so
        root = self.tree(file)
        for item in _items(_get(root, "include")):
            paths = [_scalar(item)] if _scalar(item) is not None else []
            if not paths:
                paths = [_scalar(n) for n in _items(_get(item, "path"))]
            folder = _scalar(_get(item, "project_directory"))
            for rel in filter(None, paths):
                included = (file.parent / rel).resolve()
                if included.is_file():
                    own_base = (file.parent / folder).resolve() if folder else included.parent
                    self.read_file(included, own_base, seen | {file})
        for service_key, svc in _mapping(_get(root, "services")):
            service = _scalar(service_key) or "?"
            self.service(service, svc, file, base, frozenset())

    def service(
        self, service: str, svc: yaml.Node, file: Path, base: Path, seen: frozenset[str]
    ) -> None:
        """A service's entries: first what it `extends:` (the base's own lines), then its own."""
        self._extends(service, svc, file, base, seen | {f"{file}:{service}"})
        self.env_files.extend(_env_files(service, _get(svc, "env_file"), file, base))
        self.environment.extend(_environment(service, _get(svc, "environment"), file))
        self.variables.extend(_host_side(service, svc, file))
        listed = tuple(filter(None, (_scalar(n) for n in _items(_get(svc, "profiles")))))
        if listed or service not in self.profiles:
            self.profiles[service] = listed

    def _extends(
        self, service: str, svc: yaml.Node, file: Path, base: Path, seen: frozenset[str]
    ) -> None:
        node = _get(svc, "extends")
        if node is None:
            return
        name = (
            _scalar(node) if isinstance(node, yaml.ScalarNode) else _scalar(_get(node, "service"))
        )
        other = _scalar(_get(node, "file")) if isinstance(node, yaml.MappingNode) else None
        source_file = (file.parent / other).resolve() if other else file
        if not name or f"{source_file}:{name}" in seen or not source_file.is_file():
            return  # compose reports a missing or circular base itself
        parent = _get(_get(self.tree(source_file), "services"), name)
        if parent is None:
            return
        # Paths in another file resolve against that file's folder; in this file, as its own.
        parent_base = source_file.parent if other else base
        kept = self.profiles.pop(service, None)
        self.service(service, parent, source_file, parent_base, seen)
        del self.profiles[service]  # profiles are not inherited through extends
        if kept is not None:
            self.profiles[service] = kept

    def _variables(self, file: Path, root: yaml.Node | None) -> None:
        """`${...}` anywhere in the file; host-side ones are recorded by `service`."""
        host_lines = set()
        for _key, svc in _mapping(_get(root, "services")):
            host_lines |= {(v.name, v.line) for v in _host_side("?", svc, file)}
        for scalar in _scalars(root):
            for name, default in variables_in(_scalar(scalar) or ""):
                if (name, _line(scalar)) not in host_lines:
                    self.variables.append(VariableUse(name, default, file, _line(scalar)))


def read_source(files: Sequence[Path]) -> ComposeSource:
    """The compose files as written, with their `include:`d files and `extends:` bases."""
    if not files:
        raise UnusableInput("no compose files to read")
    project_dir = files[0].parent
    reader = _Reader()
    for file in files:
        reader.read_file(file, project_dir)
    return ComposeSource(
        tuple(files),
        tuple(reader.env_files),
        tuple(reader.environment),
        tuple(reader.variables),
        tuple(reader.read),
        dict(reader.profiles),
    )

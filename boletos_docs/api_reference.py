"""docs/api-reference.md, written from the contracts and the code that serves them.

Every service, RPC, message, field and enum value of protos/boletos/v1 with the comment the
.proto gives it (protoc keeps comments in the descriptors' source info), the roles the access
table (boletos/platform/access/roles.py) lets call each RPC, and the ErrorInfo reasons found
in the services' source. Deterministic, so a test can compare the page with a fresh one:

    python -m boletos_docs.api_reference
"""

from __future__ import annotations

import ast
import importlib.resources
import re
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from boletos.platform.access.roles import ACCESS, PAYMENT_LINKS, Role, Rule

ROOT = Path(__file__).resolve().parents[1]
PROTOS = ROOT / "protos"
OUTPUT = ROOT / "docs" / "api-reference.md"
COMMAND = "python -m boletos_docs.api_reference"
WIDTH = 95
PACKAGE = "boletos.v1"

# Which process serves which gRPC services: the reasons are gathered per process.
SERVERS: dict[str, tuple[str, ...]] = {
    "ingest_service": ("IngestService", "KeyService"),
    "boleto_service": ("BoletoService",),
    "mailer_service": ("MailerService",),
}
# Shared code every service runs (authentication, paging): its reasons reach every client.
SHARED = "boletos/platform"
ERRORS_MODULE = "boletos/platform/errors.py"
ROLE_ORDER = (Role.UPLOADER, Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.SERVICE)
# An ErrorInfo reason is UPPER_SNAKE_CASE (boletos/platform/errors.py).
REASON = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")

# FieldDescriptorProto.Type numbers to their .proto spelling.
SCALARS = {
    number: name.removeprefix("TYPE_").lower()
    for name, number in descriptor_pb2.FieldDescriptorProto.Type.items()
}
# Paths into FileDescriptorProto, as SourceCodeInfo.Location counts them.
MESSAGE_TYPE, ENUM_TYPE, SERVICE = 4, 5, 6
FIELD, NESTED_TYPE, NESTED_ENUM, ONEOF = 2, 3, 4, 8
ENUM_VALUE, METHOD = 2, 2


# --- The descriptors -------------------------------------------------------------------


def descriptors() -> list[descriptor_pb2.FileDescriptorProto]:
    """The contracts' files as protoc compiles them, comments included, in name order."""
    names = sorted(
        str(p.relative_to(PROTOS)) for p in (PROTOS / PACKAGE.replace(".", "/")).glob("*.proto")
    )
    includes = importlib.resources.files("grpc_tools") / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "contracts.binpb"
        code = protoc.main(
            [
                "protoc",
                f"-I{PROTOS}",
                f"-I{includes}",
                "--include_source_info",
                f"--descriptor_set_out={out}",
                *names,
            ]
        )
        if code != 0:
            raise RuntimeError(f"protoc could not compile {', '.join(names)} (exit {code})")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    return sorted(files, key=lambda f: f.name)


def _lines(comment: str) -> str:
    """A comment's text without the space after each `//`."""
    return "\n".join(line.strip() for line in comment.strip().splitlines())


class Comments:
    """The leading comment of each element of one file, by its source-info path."""

    def __init__(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        self._leading = {
            tuple(location.path): _lines(location.leading_comments)
            for location in file.source_code_info.location
            if location.leading_comments.strip()
        }
        # A comment standing alone at the top of a file (events.proto's) introduces it.
        self.detached = [
            _lines(comment)
            for location in file.source_code_info.location
            for comment in location.leading_detached_comments
            if comment.strip()
        ]

    def of(self, *path: int) -> str:
        return self._leading.get(path, "")


# --- The error reasons -----------------------------------------------------------------


@dataclass
class Module:
    path: Path
    tree: ast.Module
    # Module-level assignments, by name, and names imported from other modules.
    assigned: dict[str, list[ast.expr]] = field(default_factory=dict)
    imported: dict[str, str] = field(default_factory=dict)
    # Every node, walked once: the scan looks at them several times.
    nodes: list[ast.AST] = field(default_factory=list)

    @property
    def relative(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def _module(path: Path) -> Module:
    module = Module(path, ast.parse(path.read_text(), filename=str(path)))
    module.nodes = list(ast.walk(module.tree))
    for node in module.tree.body:
        for target, value in _assignments(node):
            module.assigned.setdefault(target, []).append(value)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                module.imported[alias.asname or alias.name] = node.module
    return module


def _assignments(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id, node.value
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        yield node.target.id, node.value


def _helpers(modules: Sequence[Module]) -> tuple[dict[str, int], dict[str, str]]:
    """The helpers of boletos/platform/errors.py that take a reason: the position of their
    `reason` parameter, and the default of a helper that has one (invalid_argument's)."""
    positions: dict[str, int] = {}
    defaults: dict[str, str] = {}
    errors = next(m for m in modules if m.relative == ERRORS_MODULE)
    for node in errors.tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        names = [a.arg for a in node.args.args]
        if node.name.startswith("_") or "reason" not in names:
            continue
        positions[node.name] = names.index("reason")
        if default := _default(node.args, "reason"):
            defaults[node.name] = default
    return positions, defaults


def _is_helper_call(call: ast.Call, helpers: dict[str, int]) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "errors"
        and func.attr in helpers
    )


def _carriers(modules: Sequence[Module], helpers: dict[str, int]) -> dict[str, int]:
    """The classes whose `reason` attribute a handler hands to a helper (`except
    InstructionRefused as exc: ... exc.reason`), with the position of `reason` in their
    constructor: the reasons they are built with reach clients too."""
    returns = {
        node.name: node.returns.id
        for module in modules
        for node in module.nodes
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and isinstance(node.returns, ast.Name)
    }
    carried: set[str] = set()
    for module in modules:
        handed = {
            id(call): argument.value.id
            for call in module.nodes
            if isinstance(call, ast.Call) and _is_helper_call(call, helpers)
            for argument in [_argument(call, helpers[_callee(call)])]
            if isinstance(argument, ast.Attribute)
            and argument.attr == "reason"
            and isinstance(argument.value, ast.Name)
        }
        if not handed:
            continue
        for function in module.nodes:
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(function):
                    if id(node) in handed:
                        carried |= _classes_of(handed[id(node)], function, returns)
    classes = [n for m in modules for n in m.nodes if isinstance(n, ast.ClassDef)]
    positions: dict[str, int] = {}
    for node in classes:
        parameters = _constructor_parameters(node) if node.name in carried else []
        if "reason" in parameters:
            positions[node.name] = parameters.index("reason")
    return positions


def _classes_of(
    name: str, function: ast.FunctionDef | ast.AsyncFunctionDef, returns: dict[str, str]
) -> set[str]:
    """What a function's variable holds, as far as it says: the exception an `except ... as`
    catches, a parameter's annotation, or the return annotation of the call assigned to it."""
    classes: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.ExceptHandler) and node.name == name and node.type:
            caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            classes |= {c.id for c in caught if isinstance(c, ast.Name)}
        for target, value in _assignments(node):
            if target == name and isinstance(value, ast.Call):
                if isinstance(value.func, ast.Name) and value.func.id in returns:
                    classes.add(returns[value.func.id])
    arguments = function.args
    for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
        if argument.arg == name and isinstance(argument.annotation, ast.Name):
            classes.add(argument.annotation.id)
    return classes


def _argument(call: ast.Call, position: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "reason":
            return keyword.value
    if position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args):
        return call.args[position]
    return None


def _default(arguments: ast.arguments, name: str) -> str:
    # Defaults belong to the last parameters.
    names = [a.arg for a in arguments.args][len(arguments.args) - len(arguments.defaults) :]
    value = dict(zip(names, arguments.defaults, strict=True)).get(name)
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return ""


def _constructor_parameters(node: ast.ClassDef) -> list[str]:
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            return [a.arg for a in item.args.args[1:]]
    decorated = any(
        (isinstance(d, ast.Name) and d.id == "dataclass")
        or (isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "dataclass")
        for d in node.decorator_list
    )
    if not decorated:
        return []
    return [
        item.target.id
        for item in node.body
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
    ]


def _callee(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return ""


class _Finder(ast.NodeVisitor):
    """Walks one module, keeping the enclosing functions and classes for names and places."""

    def __init__(
        self,
        module: Module,
        modules: dict[str, Module],
        helpers: dict[str, int],
        defaults: dict[str, str],
        carriers: dict[str, int],
    ) -> None:
        self.module = module
        self.modules = modules
        self.helpers = helpers
        self.defaults = defaults
        self.carriers = carriers
        self.scopes: list[ast.AST] = []
        self.found: dict[str, set[str]] = {}
        self.target = ""

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scopes.append(node)
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def _named(self, node: ast.Assign | ast.AnnAssign) -> None:
        # A module-level table (upload_errors.TABLE) is named by what it is assigned to.
        at_top = not self.scopes
        if at_top:
            self.target = ", ".join(name for name, _ in _assignments(node))
        self.generic_visit(node)
        if at_top:
            self.target = ""

    visit_Assign = visit_AnnAssign = _named

    def visit_Call(self, node: ast.Call) -> None:
        name = _callee(node)
        position = None
        if _is_helper_call(node, self.helpers):
            position = self.helpers[name]
        elif name in self.carriers:
            position = self.carriers[name]
        if position is not None:
            argument = _argument(node, position)
            if argument is None:
                reasons = {self.defaults[name]} if name in self.defaults else set()
            else:
                reasons = self._resolve(argument, self.module, set())
            for reason in reasons:
                self.found.setdefault(reason, set()).add(self._place())
        self.generic_visit(node)

    def _resolve(
        self, expression: ast.expr, module: Module, seen: set[tuple[str, str]]
    ) -> set[str]:
        """The reason literals an expression can give: string constants in it, and those of
        the names it reads, followed through assignments in the enclosing functions, the
        module, and the modules it imports them from. An attribute (exc.reason) is left to
        the constructor that set it."""
        reasons: set[str] = set()
        for node in _expression_nodes(expression):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if REASON.fullmatch(node.value):
                    reasons.add(node.value)
            elif isinstance(node, ast.Name):
                reasons |= self._resolve_name(node.id, module, seen)
        return reasons

    def _resolve_name(self, name: str, module: Module, seen: set[tuple[str, str]]) -> set[str]:
        if (module.relative, name) in seen:
            return set()
        seen.add((module.relative, name))
        values: list[ast.expr] = []
        if module is self.module:
            for scope in self.scopes:
                if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
                    for node in ast.walk(scope):
                        values += [v for target, v in _assignments(node) if target == name]
        values += module.assigned.get(name, [])
        reasons: set[str] = set()
        for value in values:
            reasons |= self._resolve(value, module, seen)
        source = module.imported.get(name, "").replace(".", "/") + ".py"
        if not values and source in self.modules:
            reasons |= self._resolve_name(name, self.modules[source], seen)
        return reasons

    def _place(self) -> str:
        names = [
            s.name
            for s in self.scopes
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        return f"`{self.module.relative}` ({'.'.join(names) or self.target or 'module'})"


def _expression_nodes(expression: ast.expr) -> Iterator[ast.AST]:
    """The nodes of an expression, not descending into attributes (exc.reason) or lambdas."""
    stack: list[ast.AST] = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Attribute | ast.Lambda):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def error_reasons() -> dict[str, dict[str, set[str]]]:
    """Per process (and the shared code), each reason with the places that give it."""
    tops = [*SERVERS, SHARED]
    paths = sorted(p for top in tops for p in (ROOT / top).rglob("*.py") if "_pb2" not in p.name)
    modules = {p.relative_to(ROOT).as_posix(): _module(p) for p in paths}
    helpers, defaults = _helpers(list(modules.values()))
    carriers = _carriers(list(modules.values()), helpers)
    by_top: dict[str, dict[str, set[str]]] = {top: {} for top in tops}
    for relative, module in modules.items():
        if relative == ERRORS_MODULE:
            continue  # the helpers pass their callers' reasons through
        finder = _Finder(module, modules, helpers, defaults, carriers)
        finder.visit(module.tree)
        top = next(t for t in tops if relative.startswith(t + "/"))
        for reason, places in finder.found.items():
            by_top[top].setdefault(reason, set()).update(places)
    return by_top


# --- The page --------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading (as docs tests compute it)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _text(comment: str) -> str:
    """A comment as Markdown prose: an angle bracket would open an HTML tag."""
    return comment.replace("<", "\\<")


def _cell(comment: str) -> str:
    return " ".join(_text(comment).split()).replace("|", "\\|") or "—"


def _type_link(type_name: str) -> str:
    name = type_name.lstrip(".")
    if name.startswith(PACKAGE + "."):
        short = name.removeprefix(PACKAGE + ".")
        return f"[`{short}`](#{_slug(short)})"
    return f"`{name}`"


def _field_type(f: descriptor_pb2.FieldDescriptorProto) -> str:
    if f.type_name:
        return _type_link(f.type_name)
    return f"`{SCALARS[f.type]}`"


def _label(f: descriptor_pb2.FieldDescriptorProto, message: descriptor_pb2.DescriptorProto) -> str:
    if f.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
        return "repeated"
    if f.HasField("oneof_index"):
        if f.proto3_optional:
            return "optional"
        return f"oneof `{message.oneof_decl[f.oneof_index].name}`"
    return "singular"


def _roles(method: str) -> tuple[str, str]:
    """Who may call it, and whether each call is audited."""
    rule: Rule | None = ACCESS.get(method)
    if method in PAYMENT_LINKS:
        return "anyone holding the payment link's signed token (no credential)", "—"
    if rule is None:
        return "nobody: not in the access table", "—"
    names = []
    for role in ROLE_ORDER:
        if role in rule.roles:
            own = role is Role.UPLOADER and rule.own_uploads
            names.append(f"{role.value} (its own uploads only)" if own else role.value)
    return ", ".join(names), "yes" if rule.audited else "no"


@dataclass
class Page:
    lines: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def paragraph(self, comment: str) -> None:
        if comment:
            self.add(*_text(comment).splitlines(), "")

    def prose(self, text: str) -> None:
        """The page's own sentences, wrapped as the hand-written pages are."""
        self.add(*textwrap.wrap(text, WIDTH, break_long_words=False, break_on_hyphens=False), "")


def _service_section(
    page: Page, file: descriptor_pb2.FileDescriptorProto, comments: Comments, index: int
) -> None:
    service = file.service[index]
    page.add(f"## {service.name}", "")
    page.paragraph(comments.of(SERVICE, index))
    server = next(top for top, names in SERVERS.items() if service.name in names)
    page.prose(
        f"Defined in `protos/{file.name}`, served by `{server}`. "
        f"Error reasons: [{server}](#{_slug(server)}) and [every service](#every-service)."
    )
    page.add(
        "| RPC | request | response | roles | audited |",
        "| --- | --- | --- | --- | --- |",
    )
    for method in service.method:
        request = ("stream " if method.client_streaming else "") + _type_link(method.input_type)
        response = ("stream " if method.server_streaming else "") + _type_link(method.output_type)
        roles, audited = _roles(f"/{PACKAGE}.{service.name}/{method.name}")
        anchor = _slug(f"{service.name}.{method.name}")
        page.add(f"| [{method.name}](#{anchor}) | {request} | {response} | {roles} | {audited} |")
    page.add("")
    for number, method in enumerate(service.method):
        page.add(f"### {service.name}.{method.name}", "")
        page.paragraph(comments.of(SERVICE, index, METHOD, number))
        streaming = {
            (False, False): "unary",
            (True, False): "client streaming",
            (False, True): "server streaming",
            (True, True): "bidirectional streaming",
        }[(method.client_streaming, method.server_streaming)]
        roles, audited = _roles(f"/{PACKAGE}.{service.name}/{method.name}")
        page.add(
            f"- `/{PACKAGE}.{service.name}/{method.name}`, {streaming}: "
            f"{_type_link(method.input_type)} → {_type_link(method.output_type)}",
            f"- roles: {roles}; audited: {audited}",
            "",
        )


def _message_section(
    page: Page,
    message: descriptor_pb2.DescriptorProto,
    comments: Comments,
    path: tuple[int, ...],
    prefix: str = "",
) -> None:
    name = prefix + message.name
    page.add(f"### {name}", "")
    page.paragraph(comments.of(*path))
    if message.field:
        page.add(
            "| field | number | type | label | description |", "| --- | --- | --- | --- | --- |"
        )
        introduced: set[int] = set()
        for number, f in enumerate(message.field):
            description = comments.of(*path, FIELD, number)
            # A oneof's own comment is said once, on its first field.
            if f.HasField("oneof_index") and not f.proto3_optional:
                if f.oneof_index not in introduced:
                    introduced.add(f.oneof_index)
                    oneof = comments.of(*path, ONEOF, f.oneof_index)
                    description = " ".join(x for x in (oneof, description) if x)
            cells = (f"`{f.name}`", str(f.number), _field_type(f), _label(f, message))
            page.add(f"| {' | '.join(cells)} | {_cell(description)} |")
        page.add("")
    else:
        page.add("No fields.", "")
    for number, nested in enumerate(message.nested_type):
        _message_section(page, nested, comments, (*path, NESTED_TYPE, number), f"{name}.")
    for number, enum in enumerate(message.enum_type):
        _enum_section(page, enum, comments, (*path, NESTED_ENUM, number), f"{name}.")


def _enum_section(
    page: Page,
    enum: descriptor_pb2.EnumDescriptorProto,
    comments: Comments,
    path: tuple[int, ...],
    prefix: str = "",
) -> None:
    page.add(f"### {prefix}{enum.name}", "")
    page.paragraph(comments.of(*path))
    page.add("| value | number | description |", "| --- | --- | --- |")
    for number, value in enumerate(enum.value):
        page.add(
            f"| `{value.name}` | {value.number} | {_cell(comments.of(*path, ENUM_VALUE, number))} |"
        )
    page.add("")


def _types_section(
    page: Page, file: descriptor_pb2.FileDescriptorProto, comments: Comments
) -> None:
    for number, message in enumerate(file.message_type):
        _message_section(page, message, comments, (MESSAGE_TYPE, number))
    for number, enum in enumerate(file.enum_type):
        _enum_section(page, enum, comments, (ENUM_TYPE, number))


def _type_names(file: descriptor_pb2.FileDescriptorProto) -> list[str]:
    return [m.name for m in file.message_type] + [e.name for e in file.enum_type]


def render() -> str:
    files = [f for f in descriptors() if f.package == PACKAGE]
    order = [name for names in SERVERS.values() for name in names]
    unknown = {s.name for f in files for s in f.service} - set(order)
    if unknown:
        raise ValueError(f"no process serves {', '.join(sorted(unknown))}: add it to SERVERS")
    files.sort(key=lambda f: min((order.index(s.name) for s in f.service), default=len(order)))
    page = Page()
    page.add("# API reference", "")
    page.prose(
        f"Every service, RPC, message and enum of the `{PACKAGE}` contracts "
        "(`protos/boletos/v1/`) with the comment the `.proto` gives it, the roles allowed to "
        "call each RPC (the access table, `boletos/platform/access/roles.py`; see "
        "[access-and-security.md](access-and-security.md)) and the `ErrorInfo` reasons the "
        "services answer with. How to call them and what each status code means: "
        "[contracts.md](contracts.md)."
    )
    page.prose(
        f"Written by `{COMMAND}` from the protos and the code; a test fails when this page "
        "differs from what that command writes. Do not edit it by hand."
    )
    page.add("## Contents", "")
    services = [(f, i) for f in files for i in range(len(f.service))]
    for file, index in services:
        service = file.service[index]
        rpcs = ", ".join(
            f"[{m.name}](#{_slug(f'{service.name}.{m.name}')})" for m in service.method
        )
        page.add(f"- [{service.name}](#{_slug(service.name)}) (`{file.name}`): {rpcs}")
    for file in files:
        types = ", ".join(f"[{n}](#{_slug(n)})" for n in _type_names(file))
        title = _types_title(file)
        page.add(f"- [{title}](#{_slug(title)}): {types}")
    page.add("- [Error reasons](#error-reasons)", "")
    for file, index in services:
        _service_section(page, file, Comments(file), index)
    for file in files:
        comments = Comments(file)
        title = _types_title(file)
        page.add(f"## {title}", "")
        for comment in comments.detached:
            page.paragraph(comment)
        _types_section(page, file, comments)
    _reasons_section(page)
    return "\n".join(page.lines).rstrip("\n") + "\n"


def _types_title(file: descriptor_pb2.FileDescriptorProto) -> str:
    name = Path(file.name).name
    return f"Messages and enums of {name}" if file.service else f"Events ({name})"


def _reasons_section(page: Page) -> None:
    page.add("## Error reasons", "")
    page.prose(
        "A call the services refuse carries an `ErrorInfo` whose `reason` is one of these (the "
        "status codes and what each reason means: [contracts.md](contracts.md#errors)); only "
        "a missing or bad credential (`UNAUTHENTICATED`) and a role that may not call the RPC "
        "(`PERMISSION_DENIED`) come with a status and a message alone. There is no "
        "central list in the code; they are gathered from the source of each process and of "
        "the shared platform, as the UPPER_SNAKE_CASE string literals given as the `reason` "
        "argument of a call to a helper of `boletos/platform/errors.py` (`error_info`, "
        "`invalid_argument`, `not_found`, `failed_precondition`; `invalid_argument`'s default "
        "when none is given) or to the constructor of a class whose `reason` a handler passes "
        "to one of them (`except InstructionRefused as exc:` ... `exc.reason`), a name "
        "followed to the constants it is assigned in the function, the module or the module "
        "it is imported from. Where names the file and the function, class or table."
    )
    found = error_reasons()
    groups = [(top, f"{top}: {', '.join(names)}") for top, names in SERVERS.items()]
    groups.append((SHARED, "every service"))
    for top, title in groups:
        heading = top if top in SERVERS else title
        page.add(f"### {heading}", "")
        if top in SERVERS:
            page.add(f"What `{top}` answers with ({', '.join(SERVERS[top])}).", "")
        else:
            page.add(f"What the shared code in `{SHARED}` answers with, in every service.", "")
        page.add("| reason | where |", "| --- | --- |")
        for reason in sorted(found[top]):
            page.add(f"| `{reason}` | {'; '.join(sorted(found[top][reason]))} |")
        page.add("")


def main() -> None:
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

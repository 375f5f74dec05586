"""The docs: every documented `mlflow run`, `mlflow models serve` and `make` command can work as
written (its entry point, parameters, hyperparameters and placeholders), every link leads to a
file, and every English page has its Korean twin with the same sections and commands.

Static and in-process: the commands are parsed with MLflow's own command-line definitions and
checked against MLproject, catalog.yaml and the Makefile, never run (the README walkthrough runs
for real in tests/test_walkthrough_e2e.py).
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path

import click
import pytest
import yaml
from mlflow.cli import run as mlflow_run_command
from mlflow.models.cli import commands as models_commands

from grocery.config import PROJECT_DIR, load_config
from grocery.errors import UserError
from grocery.modeling import coerce
from grocery.names import ALL_PRODUCTS, registered_model_name
from grocery.registry import parse_model_ref

DOCS = PROJECT_DIR / "docs"
KOREAN = DOCS / "ko"
SHELL_FENCE = re.compile(r"^```(?:bash|sh|console|shell)[ \t]*\n(.*?)^```", re.M | re.S)
# A value the reader fills in: <prepare run id>, <commit>, ... (a letter right after the `<`, so
# a shell redirection `< file` is not one).
PLACEHOLDER = re.compile(r"<[A-Za-z가-힣][^<>\n]*>")
MARK = "\x00"  # what a placeholder reads as once the command is split into words
OPERATORS = {"&&", "||", ";", "|", "&", "(", ")"}
RUN_ID = re.compile(r"\b[0-9a-f]{32}\b")
SHELL_VARIABLE = re.compile(r"\$\{?[A-Za-z_]")
MODEL_PARAMETER = "model"  # the entry points whose MLproject declares it also take hyperparameters
# MLproject's parameter types, and how a literal value of each must read.
TYPE_CHECKS = {"int": int, "float": float}


def pages() -> list[Path]:
    """README.md and every page under docs/ (Korean included)."""
    return [PROJECT_DIR / "README.md", *sorted(DOCS.rglob("*.md"))]


def twin(page: Path) -> Path:
    """The Korean twin of an English page (README.md's is docs/ko/README.md)."""
    return KOREAN / page.name


def english_pages() -> list[Path]:
    return [PROJECT_DIR / "README.md", *sorted(DOCS.glob("*.md"))]


def shell_blocks(text: str) -> list[str]:
    """The bodies of a page's fenced shell blocks."""
    return [match.group(1) for match in SHELL_FENCE.finditer(text)]


def without_comment(line: str) -> str:
    """The line up to a `#` that starts a word outside quotes (`uri#subdir` is no comment)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def split_words(line: str) -> list[str]:
    """A shell line as words (placeholders one word each, comments dropped)."""
    marked = PLACEHOLDER.sub(lambda m: MARK + m.group(0)[1:-1].replace(" ", "_") + MARK, line)
    lexer = shlex.shlex(without_comment(marked), posix=True, punctuation_chars=True)
    lexer.whitespace_split, lexer.commenters = True, ""
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote: a line of a multi-line string, not a command
        return []


def block_commands(block: str) -> list[list[str]]:
    """Each simple command of a shell block as its words, backslash continuations joined, a
    console's `$ ` prompt and leading `VAR=value` assignments and `time` dropped."""
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        line = re.sub(r"^\s*\$ ", "", line)
        current: list[str] = []
        for word in [*split_words(line), ";"]:
            if word in OPERATORS:
                while current and (re.match(r"^[A-Za-z_]\w*=", current[0])
                                   or current[0] == "time"):
                    current.pop(0)
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(word)
    return commands


def page_commands(page: Path) -> list[list[str]]:
    return [c for block in shell_blocks(page.read_text()) for c in block_commands(block)]


def shown(words: list[str]) -> str:
    """A command as the page spells it (placeholders back in their brackets)."""
    text = " ".join(words)
    return re.sub(MARK + "(.*?)" + MARK, lambda m: f"<{m.group(1).replace('_', ' ')}>", text)


def is_placeholder(value: str) -> bool:
    return MARK in value or bool(SHELL_VARIABLE.search(value))


@cache
def entry_points() -> dict[str, dict]:
    """MLproject's entry points: name -> {parameter: (type, default or None)}."""
    spec = yaml.safe_load((PROJECT_DIR / "MLproject").read_text())["entry_points"]
    points = {}
    for name, entry in spec.items():
        params = {}
        for key, value in entry.get("parameters", {}).items():
            value = value if isinstance(value, dict) else {"type": value}
            params[key] = (value.get("type", "string"), value.get("default"))
        points[name] = params
    return points


@cache
def make_targets() -> tuple[set[str], set[str]]:
    """The Makefile's targets and the variables it reads."""
    text = (PROJECT_DIR / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.M))
    variables = set(re.findall(r"\$\(([A-Z_]+)\)", text)) | set(re.findall(r"\$\$([A-Z_]+)", text))
    return targets, variables


# --- What a documented command may say.

def product_faults(entry: str, params: dict[str, str], defaults: dict) -> list[str]:
    """What is wrong with the product a pipeline or predict command names."""
    config = load_config()
    product = params.get("product", defaults.get("product"))
    if product is None or is_placeholder(product):
        return []
    whole = {*config.departments, ALL_PRODUCTS} if entry == "main" else set()
    if entry == "predict":
        whole = set(config.departments)
    if params.get("data"):
        if "product" not in params or product in whole:
            return [f"own data (-P data=) needs -P product=<your product>, not {product!r}"]
        if product not in config.products and not params.get("department"):
            return [f"{product!r} is outside the catalog: it needs -P department=<name>"]
        return []
    if entry != "predict" and product not in {*config.products, *whole}:
        return [f"product {product!r} is not in the catalog (and no -P data= is given)"]
    return []


def value_faults(params: dict[str, str], declared: dict) -> list[str]:
    """Literal values that cannot be: a typed parameter's value, an unmarked run id."""
    faults = []
    for key, value in params.items():
        if is_placeholder(value):
            continue
        if RUN_ID.search(value) or "..." in value:
            faults.append(f"{key}={value}: mark what the reader fills in as <...>")
        kind = declared.get(key, ("string", None))[0]
        if kind in TYPE_CHECKS:
            try:
                TYPE_CHECKS[kind](value)
            except ValueError:
                faults.append(f"{key}={value} is not a {kind}")
    return faults


def hyperparameter_faults(params: dict[str, str], extra: list[str], defaults: dict) -> list[str]:
    """The hyperparameters among ``extra`` that the model the command selects does not have."""
    model = params.get(MODEL_PARAMETER, defaults.get(MODEL_PARAMETER))
    if model is None:  # pipeline: no default model, so the missing parameter is the fault
        return [f"unknown parameter {key!r}" for key in extra]
    if is_placeholder(model):
        return []
    models = load_config().models
    if model not in models:
        return [f"unknown model {model!r}; valid: {', '.join(sorted(models))}"]
    faults = []
    for key in extra:
        if key not in models[model].params:
            faults.append(f"unknown hyperparameter {key!r} for model {model!r} "
                          f"(valid: {', '.join(sorted(models[model].params))})")
        elif not is_placeholder(params[key]):
            try:
                coerce(params[key], models[model].params[key])
            except ValueError:
                faults.append(f"hyperparameter {key}={params[key]} is not a valid value")
    return faults


def model_reference_faults(entry: str, params: dict[str, str]) -> list[str]:
    value = params.get(MODEL_PARAMETER, "")
    if entry not in ("lineage", "reproduce", "verify") or is_placeholder(value):
        return []
    try:
        parse_model_ref(value)
    except UserError as error:
        return [str(error)]
    return []


def mlflow_run_faults(words: list[str]) -> list[str]:
    """Why `mlflow run <words>` cannot work as written, or nothing."""
    try:
        options = mlflow_run_command.make_context("run", list(words)).params
    except click.ClickException as error:
        return [error.format_message()]
    entry = options["entry_point"]
    if entry not in entry_points():
        return [f"no entry point {entry!r} in MLproject"]
    declared = entry_points()[entry]
    defaults = {key: default for key, (_, default) in declared.items()}
    params = dict(p.split("=", 1) for p in options["param_list"] if "=" in p)
    faults = [f"-P {p}: not name=value" for p in options["param_list"] if "=" not in p]
    faults += [f"{key} has no default: pass -P {key}=..." for key, default in defaults.items()
               if default is None and key not in params]
    extra = [key for key in params if key not in declared]
    if MODEL_PARAMETER in declared and entry in ("main", "pipeline", "train"):
        faults += hyperparameter_faults(params, extra, defaults)
    elif extra:
        faults.append(f"entry point {entry!r} takes no parameter {', '.join(extra)}")
    faults += value_faults(params, declared) + model_reference_faults(entry, params)
    if entry in ("main", "pipeline", "prepare", "predict"):
        faults += product_faults(entry, params, defaults)
    return faults


def serve_faults(words: list[str]) -> list[str]:
    """Why `mlflow models serve <words>` cannot work as written, or nothing."""
    try:
        uri = models_commands.commands["serve"].make_context("serve", list(words)).params[
            "model_uri"]
    except click.ClickException as error:
        return [error.format_message()]
    if uri is None or is_placeholder(uri):
        return [] if uri else ["no -m <model uri>"]
    if not uri.startswith("models:/"):
        return [f"{uri}: serve a registered version, models:/<name>@<alias> or /<version>"]
    ref = parse_model_ref(uri)
    names = {registered_model_name(p) for p in load_config().products}
    return [] if ref.name in names or is_placeholder(ref.name) else [
        f"{ref.name} is no catalog product's registered model"]


def make_faults(words: list[str]) -> list[str]:
    targets, variables = make_targets()
    faults = []
    for word in words:
        name, equals, value = word.partition("=")
        if not equals:
            if word not in targets:
                faults.append(f"no make target {word!r}")
        elif name not in variables:
            faults.append(f"the Makefile reads no variable {name}")
        elif name == "PRODUCT" and not is_placeholder(value):
            config = load_config()
            if value not in {*config.products, *config.departments, ALL_PRODUCTS}:
                faults.append(f"PRODUCT={value} is no product, department or all")
    return faults


def command_faults(words: list[str]) -> list[str]:
    """What is wrong with one documented command (empty for commands this test does not know)."""
    program = Path(words[0]).name
    if program == "mlflow" and words[1:2] == ["run"]:
        return mlflow_run_faults(words[2:])
    if program == "mlflow" and words[1:3] == ["models", "serve"]:
        return serve_faults(words[3:])
    if program == "make":
        return make_faults(words[1:])
    return []


def checked_commands() -> list[tuple[str, list[str]]]:
    """Every documented mlflow and make command, with the page it is on."""
    return [(str(page.relative_to(PROJECT_DIR)), words) for page in pages()
            for words in page_commands(page) if Path(words[0]).name in ("mlflow", "make")]


def test_every_documented_command_can_work_as_written():
    commands = checked_commands()
    faults = [f"{page}: {shown(w)}\n    {fault}"
              for page, w in commands for fault in command_faults(w)]
    assert not faults, "\n".join(faults)
    # The pages do document these commands (an empty harvest would pass anything).
    assert len(commands) > 60


@pytest.mark.parametrize("command, fault", [
    ("mlflow run . -e train --env-manager local -P data=runs:/<prepare run id>/data "
     "-P max_depth=8", "unknown hyperparameter 'max_depth' for model 'ridge'"),
    ("mlflow run . --env-manager local -P data=/abs/sales.csv -P target=units_sold",
     "own data (-P data=) needs -P product=<your product>"),
    ("mlflow run . --env-manager local -P product=sourdough -P data=/abs/sales.csv",
     "'sourdough' is outside the catalog: it needs -P department=<name>"),
    ("mlflow run . -e register --env-manager local "
     "-P train_run_id=0123456789abcdef0123456789abcdef", "mark what the reader fills in as <...>"),
    ("mlflow run . -e pipeline --env-manager local -P product=milk", "rows has no default"),
    ("mlflow run . -e pipeline --env-manager local -P max_parallel=2",
     "unknown parameter 'max_parallel'"),
    ("mlflow run . -e predict --env-manager local -P product=cheese -P output=$PWD/f.csv "
     "-P alias=champion", "takes no parameter alias"),
    ("mlflow run . -e lineage --env-manager local -P model=cheese-1", "is not <name>/<version>"),
    ("mlflow run . -e fit --env-manager local", "no entry point 'fit'"),
    ("mlflow run . -P product=milk -P rows=many", "rows=many is not a int"),
    ("mlflow run . --env-manger local", "No such option"),
    ("mlflow models serve -m models:/grocery-forecasting-bread@champion", "no catalog product"),
    ("make run PRODUCT=bread", "PRODUCT=bread is no product"),
    ("make walkthrough", "no make target 'walkthrough'"),
])
def test_the_check_refuses_each_kind_of_broken_command(command, fault):
    (words,) = block_commands(command)
    assert any(fault in found for found in command_faults(words)), command_faults(words)


def test_a_command_is_read_across_continuations_comments_and_placeholders():
    block = ("A=1 mlflow run . -e train \\\n    -P data=runs:/<prepare run id>/data  # note\n"
             "make run PRODUCT=all && mlflow run git://h/p.git#sub -v <commit>\n")
    commands = block_commands(block)
    assert [c[:2] for c in commands] == [["mlflow", "run"], ["make", "run"], ["mlflow", "run"]]
    assert is_placeholder(commands[0][-1]) and commands[2][2] == "git://h/p.git#sub"
    assert command_faults(commands[0]) == []


# --- Links.

LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings (lowercased, punctuation dropped, spaces to
    hyphens; letters of any script kept)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", text, re.M)}


def test_every_relative_link_leads_to_a_file_and_its_heading():
    broken = []
    for page in pages():
        for target in LINK.findall(page.read_text()):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = page.parent / path if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(PROJECT_DIR)}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{page.relative_to(PROJECT_DIR)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


# --- The Korean tree.

def sections(page: Path) -> int:
    """The page's ## headings (outside fenced blocks)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    return len(re.findall(r"^## ", text, re.M))


def normalised_commands(page: Path) -> list[str]:
    """The page's shell commands, placeholders blanked (their words are translated)."""
    return [re.sub(MARK + ".*?" + MARK, "<>", shlex.join(words)) for words in page_commands(page)]


def test_every_english_page_has_a_korean_twin_with_its_sections_and_commands():
    faults = []
    for page in english_pages():
        korean = twin(page)
        if not korean.exists():
            faults.append(f"{page.relative_to(PROJECT_DIR)}: no {korean.relative_to(PROJECT_DIR)}")
            continue
        if sections(page) != sections(korean):
            faults.append(f"{korean.relative_to(PROJECT_DIR)}: {sections(korean)} sections, "
                          f"the English page {sections(page)}")
        if normalised_commands(page) != normalised_commands(korean):
            faults.append(f"{korean.relative_to(PROJECT_DIR)}: its commands differ from "
                          f"{page.relative_to(PROJECT_DIR)}'s")
    english = {twin(page) for page in english_pages()}
    faults += [f"{page.relative_to(PROJECT_DIR)}: no English page"
               for page in sorted(KOREAN.glob("*.md")) if page not in english]
    assert not faults, "\n".join(faults)


def test_the_korean_readme_is_linked_at_the_top_of_the_english_one():
    head = (PROJECT_DIR / "README.md").read_text().split("\n## ", 1)[0]
    assert "(docs/ko/README.md)" in head


def test_both_indexes_link_the_glossary_and_the_own_data_page():
    for index in (DOCS / "index.md", KOREAN / "index.md"):
        text = index.read_text()
        assert "(glossary.md)" in text and "(own-data-and-models.md)" in text, index


# --- Loopback addresses: a page that starts a server sends the reader to the port it listens on.

LOOPBACK_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost):(\d+)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
SERVERS = (["mlflow", "ui"], ["mlflow", "server"], ["mlflow", "models", "serve"])
MLFLOW_DEFAULT_PORT = "5000"  # mlflow ui, mlflow server and mlflow models serve alike


def listening_ports(page: Path) -> set[str]:
    """The loopback ports the servers a page starts (in a block or inline) listen on."""
    text = page.read_text()
    commands = page_commands(page) + [words for span in INLINE_CODE.findall(text)
                                      for words in block_commands(span)]
    ports = set()
    for words in commands:
        words = [Path(words[0]).name, *words[1:]]
        if not any(words[:len(server)] == server for server in SERVERS):
            continue
        given = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--port", "-p")]
        if "--host" in words and words[words.index("--host") + 1] not in ("127.0.0.1",
                                                                            "localhost"):
            continue  # a server for others to reach, by its own name
        ports.update(given or [MLFLOW_DEFAULT_PORT])
    return ports


def test_a_page_that_starts_a_server_opens_the_port_it_listens_on():
    faults = []
    for page in pages():
        ports = listening_ports(page)
        if not ports:
            continue
        for port in sorted(set(LOOPBACK_URL.findall(page.read_text())) - ports):
            faults.append(f"{page.relative_to(PROJECT_DIR)}: opens port {port}, but its servers "
                          f"listen on {', '.join(sorted(ports))}")
    assert not faults, "\n".join(faults)


def test_the_port_check_catches_mlflow_ui_sent_to_8080(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```bash\nmlflow ui\n```\n\nOpen http://127.0.0.1:8080.\n")
    assert listening_ports(page) == {"5000"}
    assert set(LOOPBACK_URL.findall(page.read_text())) - listening_ports(page) == {"8080"}

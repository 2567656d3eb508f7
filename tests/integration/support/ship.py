"""The repository's shipping files read as the tools read them (the test_ship_* and test_package_*
tests, and test_aws_large's memory bound).

Pure functions (no network, no child processes): a Dockerfile reader, Docker's .dockerignore
matching rules, the Prometheus text format's metric families, and the key paths and comments of
a YAML file.
"""
import os
import re
import shlex

import yaml

from .env import SOURCE_DIR


def source_path(*parts):
    return os.path.join(SOURCE_DIR, *parts)


def read(*parts):
    with open(source_path(*parts), encoding="utf-8") as f:
        return f.read()


def default_config_path():
    """kDefaultConfigPath of src/config/config.hpp: the path the binary reads by default."""
    m = re.search(r'kDefaultConfigPath\s*=\s*"([^"]+)"', read("src", "config", "config.hpp"))
    assert m, "kDefaultConfigPath not found in src/config/config.hpp"
    return m.group(1)


# ---- Memory ----------------------------------------------------------------------------------

# Peak RSS of the service fetching Cost Explorer pages of up to max_response_bytes: a base plus a
# factor times max_response_bytes (the body, simdjson's buffers, the parsed groups and the page's
# events; the next page is fetched while a page's events go out, so two pages can be alive).
# Measured on a release build (g++ 12, -O3) with `--once --dry-run`, stdout to /dev/null, peak
# from wait4's ru_maxrss:
# - one page of 10, 50, 100 MB: 8.6 bytes per response byte + 13.5 MiB (groups of ~190 bytes, as
#   test_aws_large.py serves), 13.1 + 11.3 MiB (tiny groups of ~75 bytes, the worst shape);
# - two consecutive 32 MiB pages: 15.5 per byte (tiny groups) and 10.9 (long groups) above the base.
# Rounded up (15.5 -> 18: the peak also grows a little with each further page of a run), the
# chart's memory limit must be at least
# MEMORY_BASE_BYTES + MEMORY_BYTES_PER_RESPONSE_BYTE * max_response_bytes.
MEMORY_BASE_BYTES = 16 << 20
MEMORY_BYTES_PER_RESPONSE_BYTE = 18
# Headroom the chart keeps above that bound (limit >= MEMORY_HEADROOM x bound).
MEMORY_HEADROOM = 1.25

_SIZE_UNITS = {"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "KB": 10**3, "MB": 10**6,
               "GB": 10**9}
_QUANTITY_UNITS = {"": 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 10**3, "M": 10**6, "G": 10**9}


def parse_size(text):
    """A config size (`1024`, `64KiB`, `256MiB`, `1GB`) in bytes, as src/config/units.cpp reads it."""
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", str(text))
    assert m and m.group(2) in _SIZE_UNITS, f"not a size: {text!r}"
    return int(m.group(1)) * _SIZE_UNITS[m.group(2)]


def parse_quantity(text):
    """A Kubernetes memory quantity (`512Mi`, `1Gi`, `300M`, `1048576`) in bytes."""
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", str(text))
    assert m and m.group(2) in _QUANTITY_UNITS, f"not a memory quantity: {text!r}"
    return int(m.group(1)) * _QUANTITY_UNITS[m.group(2)]


def default_max_response_bytes():
    """The default of Config::max_response_bytes in src/config/config.hpp (`N * 1024 * ...`)."""
    m = re.search(r"max_response_bytes\s*=\s*([0-9'ull *]+);", read("src", "config", "config.hpp"))
    assert m, "max_response_bytes default not found in src/config/config.hpp"
    value = 1
    for factor in m.group(1).split("*"):
        value *= int(factor.strip().replace("'", "").rstrip("uUlL"))
    return value


# ---- Dockerfile ------------------------------------------------------------------------------

def dockerfile_instructions(text):
    """[(INSTRUCTION, arguments)] with line continuations joined and comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def dockerfile_stages(text):
    """[{'from': image, 'name': alias or None, 'instructions': [...]}] in order."""
    stages = []
    for word, rest in dockerfile_instructions(text):
        if word == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append({"from": parts[0], "name": name, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((word, rest))
    return stages


def apt_packages(stage):
    """Packages named by `apt-get install` in a stage's RUN instructions."""
    packages = []
    for word, rest in stage["instructions"]:
        if word != "RUN":
            continue
        for command in re.split(r"&&|;", rest):
            tokens = shlex.split(command)
            if len(tokens) >= 2 and tokens[0] == "apt-get" and "install" in tokens:
                packages += [t for t in tokens[tokens.index("install") + 1:] if not t.startswith("-")]
    return packages


def env_of(stage):
    env = {}
    for word, rest in stage["instructions"]:
        if word == "ENV":
            for token in shlex.split(rest):
                key, sep, value = token.partition("=")
                if sep:
                    env[key] = value
    return env


def dockerfile_args(stage, build_args=None):
    """{name: value} of a stage's ARG instructions: the --build-arg value, else the default."""
    build_args = build_args or {}
    values = {}
    for word, rest in stage["instructions"]:
        if word == "ARG":
            name, sep, default = rest.partition("=")
            values[name] = build_args.get(name, default if sep else "")
    return values


def dockerfile_substitute(text, variables):
    """${NAME} and $NAME replaced by their values (the plain forms), as the shell of a RUN
    instruction sees the stage's ARGs."""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)",
                  lambda m: variables.get(m.group(1) or m.group(2), ""), text)


def setup_packages():
    """The packages=(...) list of .ci/setup.sh."""
    m = re.search(r"packages=\((.*?)\)", read(".ci", "setup.sh"), re.S)
    assert m, "packages=(...) not found in .ci/setup.sh"
    return m.group(1).split()


# ---- .dockerignore (the rules of Docker's pattern matcher) ------------------------------------

def _glob_regex(pattern):
    """Go's filepath.Match syntax plus Docker's '**' as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = pattern.find("]", i)
            out += pattern[i:j + 1] if j > i else re.escape(c)
            i = j if j > i else i
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + r"\Z")


def dockerignore_rules(text):
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line[1:] if negate else line).lstrip("/")
        rules.append((negate, _glob_regex(pattern)))
    return rules


def dockerignore_excludes(rules, path):
    """True when `path` (relative, '/'-separated) stays out of the build context. As Docker: the
    last pattern matching the path or one of its parent directories decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for negate, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = not negate
    return excluded


# ---- Prometheus text format -----------------------------------------------------------------

def metric_families(text):
    """{name: {'type': ..., 'help': ..., 'samples': [(sample name, labels dict, value)]}}."""
    families = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            families.setdefault(name, {"type": None, "help": None, "samples": []})["help"] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            families.setdefault(name, {"type": None, "help": None, "samples": []})["type"] = kind
        elif line and not line.startswith("#"):
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)", line)
            if not m:
                continue
            sample = m.group(1)
            labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            base = re.sub(r"_(bucket|sum|count)\Z", "", sample)
            family = sample if sample in families else base
            families.setdefault(family, {"type": None, "help": None, "samples": []})["samples"].append(
                (sample, labels, float(m.group(4))))
    return families


def naming_problems(families, prefix="aws_billing_source_"):
    """Deviations from the Prometheus naming conventions, one message each."""
    problems = []
    units = ("_seconds", "_bytes", "_total", "_info", "_timestamp_seconds")
    for name, f in sorted(families.items()):
        kind = f["type"]
        if not name.startswith(prefix):
            problems.append(f"{name}: does not start with {prefix}")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            problems.append(f"{name}: not snake_case")
        if kind == "counter" and not name.endswith("_total"):
            problems.append(f"{name}: a counter whose name does not end in _total")
        if kind != "counter" and name.endswith("_total"):
            problems.append(f"{name}: a {kind} whose name ends in _total")
        if kind in ("histogram", "summary") and not name.endswith(units):
            problems.append(f"{name}: a {kind} without a unit suffix")
        if "_seconds" in name and not name.endswith(("_seconds", "_seconds_total")):
            problems.append(f"{name}: the unit is not the suffix")
        for bad in ("_milliseconds", "_ms", "_minutes", "_hours", "_kilobytes", "_megabytes"):
            if bad + "_" in name + "_":
                problems.append(f"{name}: not a base unit ({bad[1:]})")
        if name.endswith("_info") and kind != "gauge":
            problems.append(f"{name}: an info metric that is not a gauge")
        if not f["help"]:
            problems.append(f"{name}: no HELP text")
    return problems


# ---- YAML keys and their comments ------------------------------------------------------------

def yaml_key_paths(data, prefix=""):
    """Every mapping key path of a parsed YAML value ('a.b.c'); lists are not descended."""
    paths = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.append(path)
            paths += yaml_key_paths(value, path)
    return paths


def uncommented_keys(text):
    """Key paths of block mappings with neither a comment line right above nor a trailing one."""
    lines = text.splitlines()
    missing = []

    def commented(line_no):
        if "#" in lines[line_no].split(":", 1)[-1]:
            return True
        # The line right above; a blank line separates a comment from the key.
        return line_no > 0 and lines[line_no - 1].lstrip().startswith("#")

    def walk(node, prefix):
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                path = f"{prefix}.{key.value}" if prefix else key.value
                if not commented(key.start_mark.line):
                    missing.append(path)
                walk(value, path)

    walk(yaml.compose(text), "")
    return missing


# ---- docker/compose.yaml as `docker run` options ---------------------------------------------

def compose_run_options(service):
    """A resolved compose service (`docker-compose config`) as the `docker run` / `podman run`
    options its security settings stand for, so a test runs the image as compose would:
    {'options': [--read-only, --cap-drop X, --cap-add X, --security-opt X ...], 'user': 'uid:gid'
    or None, 'state_volume': the target of the named volume (None without one), 'config_target':
    where the config file or directory is mounted (None without one)}."""
    options = []
    if service.get("read_only"):
        options.append("--read-only")
    for cap in service.get("cap_drop") or []:
        options += ["--cap-drop", cap]
    for cap in service.get("cap_add") or []:
        options += ["--cap-add", cap]
    for opt in service.get("security_opt") or []:
        options += ["--security-opt", opt]
    state_volume = config_target = None
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):  # long syntax
            kind, source, target = volume.get("type"), volume.get("source", ""), volume["target"]
        else:
            source, target = volume.split(":")[:2]
            kind = "bind" if source.startswith(("/", ".", "~")) else "volume"
        if kind == "volume" and source:
            state_volume = target
        elif kind == "bind" and "/config" in target:
            config_target = target
    return {"options": options, "user": service.get("user"), "state_volume": state_volume,
            "config_target": config_target}

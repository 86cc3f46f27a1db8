"""The alert rules (deploy/prometheus) and the dashboard (deploy/grafana).

promtool checks the rules and runs their unit tests, which fire and resolve each alert from
synthetic series; every metric a rule or a panel names must be one Keel exports, read from
the metrics registry itself, so that renaming a metric fails here rather than silently
emptying an alert. promtool comes with Debian's `prometheus` package (`make servers`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from entrypoints.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "deploy" / "prometheus"
RULES = RULES_DIR / "alerts.yaml"
RULE_TESTS = RULES_DIR / "alerts.test.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "keel.json"
README = ROOT / "README.md"

SEVERITIES = frozenset({"critical", "warning"})
ANNOTATIONS = frozenset({"summary", "description", "runbook"})
# The series the exposition holds for each kind of metric family.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gauge": ("",),
}
KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
    | {"group_left", "group_right", "inf", "nan"}
)

Doc = dict[str, Any]


def _exported() -> frozenset[str]:
    return frozenset(
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in SUFFIXES[family.type]
    )


EXPORTED = _exported()


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL (or Grafana) expression selects: what is left once strings,
    label matchers, ranges, grouping clauses, variables and function names are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\$\{?\w+\}?", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][\w:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in KEYWORDS:
            continue
        names.add(match.group())
    return names


def _rules() -> list[Doc]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _alerts() -> list[Doc]:
    return [rule for rule in _rules() if "alert" in rule]


def _dashboard() -> Doc:
    dashboard: Doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return dashboard


def _panels() -> list[Doc]:
    return [panel for panel in _dashboard()["panels"] if panel["type"] != "row"]


def _promtool(*args: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make servers` installs Debian's prometheus package")
    run = subprocess.run(
        [promtool, *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, f"promtool {' '.join(args)}:\n{run.stdout}{run.stderr}"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a README heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# --- promtool ------------------------------------------------------------------------------


def test_promtool_checks_the_rules() -> None:
    _promtool("check", "rules", RULES.name)


def test_promtool_unit_tests_fire_and_resolve_the_alerts() -> None:
    _promtool("test", "rules", RULE_TESTS.name)


def test_every_alert_is_tested_quiet_then_firing_then_quiet_again() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    assert tests["rule_files"] == [RULES.name]
    evaluations: dict[str, list[tuple[float, bool]]] = {}
    for case in tests["tests"]:
        for check in case["alert_rule_test"]:
            firing = bool(check.get("exp_alerts"))
            evaluations.setdefault(check["alertname"], []).append(
                (_minutes(check["eval_time"]), firing)
            )
    for alert in _alerts():
        name = alert["alert"]
        checks = evaluations.get(name, [])
        fired = [time for time, firing in checks if firing]
        assert fired, f"{name}: no test sees it fire"
        quiet = [time for time, firing in checks if not firing]
        assert any(time < min(fired) for time in quiet), f"{name}: not shown quiet before"
        assert any(time > max(fired) for time in quiet), f"{name}: not shown to resolve"


def _minutes(duration: str) -> float:
    match = re.fullmatch(r"(\d+)([smh])", duration)
    assert match, duration
    return int(match.group(1)) * {"s": 1 / 60, "m": 1, "h": 60}[match.group(2)]


# --- the rules -----------------------------------------------------------------------------


def test_every_alert_waits_has_a_severity_and_says_what_to_do() -> None:
    alerts = _alerts()
    assert len({alert["alert"] for alert in alerts}) == len(alerts), "alert names repeat"
    anchors = {
        _anchor(line.lstrip("#"))
        for line in README.read_text(encoding="utf-8").splitlines()
        if re.match(r"#{1,6} ", line)
    }
    for alert in alerts:
        name = alert["alert"]
        assert re.fullmatch(r"\d+[smh]", alert.get("for", "")), f"{name}: no `for`"
        assert alert.get("labels", {}).get("severity") in SEVERITIES, name
        annotations = alert.get("annotations", {})
        assert annotations.keys() >= ANNOTATIONS, f"{name}: {sorted(annotations)}"
        page, _, anchor = annotations["runbook"].partition("#")
        assert page == README.name, f"{name}: {annotations['runbook']}"
        assert anchor in anchors, f"{name}: README has no heading #{anchor}"


def test_the_rules_cover_what_an_operator_is_paged_for() -> None:
    used = set().union(*(metric_names(rule["expr"]) for rule in _rules()))
    assert used >= {
        "keel_http_requests_total",
        "keel_http_request_duration_seconds_bucket",
        "keel_db_pool_connections_in_use",
        "keel_db_pool_connections_max",
        "keel_jobs_waiting",
        "keel_jobs_oldest_due_seconds",
        "keel_jobs_total",
        "keel_jobs_failed_kept",
        "keel_login_throttled_total",
        "keel_ready",
    }


@pytest.mark.parametrize("rule", _rules(), ids=lambda rule: rule.get("alert", "record"))
def test_every_metric_a_rule_names_is_exported(rule: Doc) -> None:
    names = metric_names(rule["expr"])
    assert names, rule["expr"]
    assert names <= EXPORTED, f"not exported by Keel: {sorted(names - EXPORTED)}"


# --- the dashboard -------------------------------------------------------------------------


@pytest.mark.parametrize("panel", _panels(), ids=lambda panel: panel["title"])
def test_every_metric_a_panel_names_is_exported(panel: Doc) -> None:
    assert panel["targets"], panel["title"]
    for target in panel["targets"]:
        names = metric_names(target["expr"])
        assert names, target["expr"]
        assert names <= EXPORTED, f"not exported by Keel: {sorted(names - EXPORTED)}"


def test_the_dashboard_shows_every_metric_keel_exports() -> None:
    shown = {
        name
        for panel in _panels()
        for target in panel["targets"]
        for name in metric_names(target["expr"])
    }
    missing = {
        family.name
        for family in Metrics().registry.collect()
        if not shown & {family.name + suffix for suffix in SUFFIXES[family.type]}
    }
    assert not missing, f"no panel for {sorted(missing)}"


def test_the_dashboard_reads_from_the_datasource_variable() -> None:
    dashboard = _dashboard()
    assert dashboard["schemaVersion"] >= 39
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    source = {"type": "prometheus", "uid": "${datasource}"}
    panels = _panels()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(set(ids)) == len(ids), "panel ids repeat"
    for panel in panels:
        assert panel["datasource"] == source, panel["title"]
        assert all(target["datasource"] == source for target in panel["targets"])
        place = panel["gridPos"]
        assert place["x"] + place["w"] <= 24, panel["title"]


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (job) (rate(keel_jobs_total{outcome="failed", x="a(b)"}[5m])) > 0',
            {"keel_jobs_total"},
        ),
        ("avg_over_time(a_b[5m]) / on (instance) c offset 1h", {"a_b", "c"}),
        ("histogram_quantile(0.99, sum(rate(h_bucket[$__rate_interval])) by (le))", {"h_bucket"}),
    ],
)
def test_metric_names_are_read_from_expressions(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names

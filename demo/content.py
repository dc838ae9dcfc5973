"""What the demo data is made of: tenants, people, work items and ML events that read like real ones.

Every value is derived from a seeded ``random.Random`` so that a re-run builds the same rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

DEMO_SUFFIX = " (demo)"
OPERATOR_CLIENT = f"Platform{DEMO_SUFFIX}"
OPERATOR_EMAIL = "operator@platform.demo.example"


@dataclass(frozen=True)
class DemoTenant:
    """One demo client: its name, email domain and GitHub organisation."""

    name: str
    domain: str
    org: str
    team_names: tuple[str, ...]


TENANTS = (
    DemoTenant(f"Acme Robotics{DEMO_SUFFIX}", "acme.demo.example", "acme", ("Firmware", "Fleet")),
    DemoTenant(f"Globex Analytics{DEMO_SUFFIX}", "globex.demo.example", "globex", ("Data", "Web")),
    DemoTenant(f"Initech Cloud{DEMO_SUFFIX}", "initech.demo.example", "initech", ("Core", "SRE")),
)
DEMO_CLIENT_NAMES = (*(tenant.name for tenant in TENANTS), OPERATOR_CLIENT)

# (role, first name, last name) of the accounts each demo client gets.
ACCOUNTS = (("admin", "Ada", "Admin"), ("user", "Umar", "User"), ("viewer", "Vera", "Viewer"))

PROJECTS = (
    ("PLAT", "Platform", "software"),
    ("WEB", "Web app", "software"),
    ("DATA", "Data pipeline", "software"),
    ("OPS", "Operations", "service_desk"),
    ("MOB", "Mobile app", "software"),
    ("SEC", "Security", "business"),
)
REPOSITORIES = ("api", "web", "etl")
PEOPLE = (
    "Amara Okafor", "Bruno Silva", "Chen Wei", "Dana Kowalski", "Elif Yilmaz", "Farid Haddad",
    "Greta Lund", "Hiro Tanaka", "Isla Murphy", "Jonas Becker",
)  # fmt: skip
VERBS = ("Fix", "Add", "Refactor", "Speed up", "Document", "Remove", "Migrate", "Harden")
# Each topic, and what its issues and pull requests say about it: topic words recur, so the demo's
# embeddings (demo.embedding) make issues on one topic each other's nearest neighbours.
TOPICS = {
    "the login flow": "Users are sent back to the login page after the SSO redirect; the login "
    "session cookie expires before the flow completes.",
    "cycle time report": "The cycle time report counts weekends; cycle time per team should use "
    "working hours from the first start to completion.",
    "sprint burndown chart": "The burndown chart of the current sprint drops to zero when a "
    "sprint is extended; remaining story points should carry over.",
    "webhook retries": "Webhook deliveries that time out are not retried; retry failed webhook "
    "calls with backoff and record each delivery attempt.",
    "Jira sync job": "The nightly Jira sync job stops at the first page of changed issues; sync "
    "every page and resume the job from the last synced issue.",
    "pull request import": "The GitHub import skips pull requests reopened after merge; import "
    "review events and commits of every pull request.",
    "CSV export": "The CSV export of issues truncates descriptions with commas; quote every CSV "
    "field and stream large exports.",
    "team dashboard filters": "Dashboard filters reset when switching teams; keep the team filter "
    "and date range of each dashboard in the URL.",
    "API rate limiting": "Clients get rate limited by the API during bulk reads; rate limits "
    "should be per token and say when the limit resets.",
    "nightly backup": "The nightly database backup overlaps the sync window; schedule the backup "
    "after the sync and verify each backup restores.",
    "search on issue keys": "Searching an issue key such as PLAT-12 finds nothing; search should "
    "match issue keys exactly before matching text.",
    "onboarding emails": "New users receive the onboarding emails twice; send each onboarding "
    "email once and let users unsubscribe from onboarding.",
}
SUBJECTS = tuple(TOPICS)
LABELS = ("backend", "frontend", "tech-debt", "customer", "security", "performance")
STATUSES = (("To Do", 3), ("In Progress", 3), ("In Review", 2), ("Done", 5))
PRIORITIES = (("Highest", 1), ("High", 3), ("Medium", 5), ("Low", 2))
ISSUE_TYPES = (("Story", 5), ("Bug", 3), ("Task", 3))
PR_STATUSES = (("merged", 6), ("open", 3), ("closed", 1))

ERROR_TYPES = ("wrong_table", "missing_filter", "sql_syntax", "ambiguous_intent", "timeout")
INTENTS = (
    ("Average cycle time of the {team} team last sprint", "issues", "total_cycle_time_seconds"),
    ("Pull requests merged without review this month", "pull_requests", "first_review_at"),
    ("Bugs opened per week in the last quarter", "issues", "issuetype_name"),
    ("Which repositories have the most rework commits", "pull_requests", "rework_commit_count"),
    ("Story points completed by {team} per sprint", "issues", "story_points"),
)
ISSUES_BY_ERROR = {
    "wrong_table": ('relation "{bad}" does not exist', "Query the {table} table."),
    "missing_filter": (
        "returned rows of every team, not only {team}",
        "Filter on team = '{team}'.",
    ),
    "sql_syntax": ('syntax error at or near "GROUP"', "Put WHERE before GROUP BY."),
    "ambiguous_intent": (
        '"last sprint" matched two sprints',
        "Ask which sprint, or take the latest closed one.",
    ),
    "timeout": (
        "canceling statement due to statement timeout",
        "Restrict created to the last 90 days; {column} is indexed per client.",
    ),
}
MODELS = (
    ("cycle_time_predictor", "hours"),
    ("story_point_estimator", "points"),
    ("pr_risk_classifier", "probability"),
)
ALERT_METRICS = ("cycle_time_hours", "review_wait_hours", "prediction_drift", "error_rate")


def rng_for(*parts: object) -> random.Random:
    """A random source fixed by ``parts``: the same row gets the same values on every run."""
    return random.Random("/".join(str(part) for part in parts))


def weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


def issue_values(rng: random.Random, *, team_names: tuple[str, ...], now: datetime) -> dict:
    """The fields of one issue, its workflow metrics consistent with its status."""
    status = weighted(rng, STATUSES)
    created = now - timedelta(days=rng.uniform(2, 120))
    subject = rng.choice(SUBJECTS)
    values = {
        "summary": f"{rng.choice(VERBS)} {subject}",
        "description": TOPICS[subject],
        "priority": weighted(rng, PRIORITIES),
        "status_name": status,
        "issuetype_name": weighted(rng, ISSUE_TYPES),
        "assignee": rng.choice(PEOPLE),
        "reporter": rng.choice(PEOPLE),
        "story_points": rng.choice((1, 2, 3, 5, 8, 13)),
        "labels": sorted(rng.sample(LABELS, rng.randint(0, 2))),
        "team": rng.choice(team_names),
        "created": created,
        "updated": created + timedelta(hours=rng.uniform(1, 48)),
    }
    if status != "To Do":
        started = created + timedelta(hours=rng.uniform(2, 72))
        values.update(work_first_started_at=started, work_last_started_at=started)
    if status == "Done":
        completed = values["work_first_started_at"] + timedelta(hours=rng.uniform(4, 240))
        values.update(
            work_first_completed_at=completed,
            work_last_completed_at=completed,
            total_cycle_time_seconds=int(
                (completed - values["work_first_started_at"]).total_seconds()
            ),
            total_lead_time_seconds=int((completed - created).total_seconds()),
            workflow_cycle_count=rng.choice((1, 1, 1, 2)),
            updated=completed,
        )
    return values


def pull_request_values(
    rng: random.Random, *, repository: str, number: int, issue_key: str | None, now: datetime
) -> dict:
    """The fields of one pull request; merged and closed ones carry consistent timestamps."""
    status = weighted(rng, PR_STATUSES)
    opened = now - timedelta(days=rng.uniform(1, 90))
    title = f"{rng.choice(VERBS)} {rng.choice(SUBJECTS)}"
    branch = (issue_key or f"topic-{number}").lower()
    values = {
        "external_id": f"{repository}#{number}",
        "name": f"{issue_key}: {title}" if issue_key else title,
        "user_name": rng.choice(PEOPLE).split()[0].lower(),
        "body": "Changes described in the linked issue." if issue_key else "Housekeeping.",
        "status": status,
        "url": f"https://github.com/{repository}/pull/{number}",
        "source": f"feature/{branch}",
        "destination": "main",
        "commit_count": rng.randint(1, 15),
        "additions": rng.randint(5, 900),
        "deletions": rng.randint(0, 400),
        "changed_files": rng.randint(1, 30),
        "review_cycles": rng.randint(0, 4),
        "rework_commit_count": rng.randint(0, 5),
        "pr_created_at": opened,
        "first_review_at": opened + timedelta(hours=rng.uniform(1, 30)),
    }
    if status == "merged":
        values["merged_at"] = values["closed_at"] = opened + timedelta(hours=rng.uniform(4, 120))
    elif status == "closed":
        values["closed_at"] = opened + timedelta(hours=rng.uniform(4, 200))
    return values


def learning_memory_values(rng: random.Random, *, team: str) -> dict:
    """A natural-language query that was translated wrongly, and what was learnt from it."""
    intent, table, column = rng.choice(INTENTS)
    error_type = rng.choice(ERROR_TYPES)
    issue, fix = ISSUES_BY_ERROR[error_type]
    bad_table = table.rstrip("s")
    context = {"team": team, "table": table, "column": column, "bad": bad_table}
    return {
        "error_type": error_type,
        "user_intent": intent.format(**context),
        "failed_query": f"SELECT {column}, count(*) FROM {bad_table} WHERE team = '{team}' GROUP BY 1",
        "specific_issue": issue.format(**context),
        "suggested_fix": fix.format(**context),
        "confidence": round(rng.uniform(0.55, 0.98), 2),
        "learning_context": {
            "model": "gpt-4o-mini",
            "tables": [table],
            "attempt": rng.randint(1, 3),
            "user_feedback": rng.choice(("thumbs_down", "corrected", "rephrased")),
        },
    }


def prediction_log_values(rng: random.Random) -> dict:
    """One prediction; a high anomaly score flags it and sets its severity."""
    model_name, unit = rng.choice(MODELS)
    # Mostly calm, now and then a spike: enough warnings and criticals to filter on.
    score = round(rng.uniform(0.6, 0.99) if rng.random() < 0.1 else rng.betavariate(2, 6), 3)
    severity = "critical" if score >= 0.6 else "warning" if score >= 0.4 else "normal"
    value = {
        "hours": round(rng.lognormvariate(3.5, 0.6), 1),
        "points": float(rng.choice((1, 2, 3, 5, 8, 13))),
        "probability": round(rng.random(), 3),
    }[unit]
    return {
        "model_name": model_name,
        "prediction_value": value,
        "input_features": {
            "story_points": rng.choice((1, 2, 3, 5, 8)),
            "changed_files": rng.randint(1, 40),
            "review_cycles": rng.randint(0, 4),
            "team_size": rng.randint(3, 12),
        },
        "anomaly_score": score,
        "is_anomaly": score >= 0.4,
        "severity": severity,
        "response_time_ms": int(rng.lognormvariate(3.6, 0.5)),
    }


def ml_row_created_at(rng: random.Random, *, now: datetime) -> datetime:
    """When an ML row was written: some time in the last 30 days."""
    return now - timedelta(minutes=rng.uniform(1, 30 * 24 * 60))


def anomaly_alert_values(rng: random.Random, *, created_at: datetime, now: datetime) -> dict:
    """An alert; about 40% have been acknowledged (by whom is set by the caller)."""
    model_name, _ = rng.choice(MODELS)
    metric = rng.choice(ALERT_METRICS)
    expected_max = round(rng.uniform(10, 120), 1)
    observed = round(expected_max * rng.uniform(1.3, 4.0), 1)
    acknowledged = rng.random() < 0.4
    return {
        "model_name": model_name,
        "severity": rng.choice(("low", "medium", "medium", "high", "high", "critical")),
        "alert_data": {
            "metric": metric,
            "observed": observed,
            "expected_max": expected_max,
            "window": "24h",
            "message": f"{metric} is {observed / expected_max:.1f}x the expected maximum",
        },
        "acknowledged": acknowledged,
        "acknowledged_at": (
            min(created_at + timedelta(hours=rng.uniform(0.2, 48)), now) if acknowledged else None
        ),
    }

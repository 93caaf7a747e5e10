//! Drift between two reports (`rdsguard diff old.json new.json`): which failures are new,
//! which were resolved, which remain.
//!
//! Findings are matched by (check id, account, region, resource ARN or id). A failure that
//! disappears is only called resolved when the new report shows why: the resource now passes
//! or is not applicable, or it is gone although the new report covered its account, region and
//! check. A failure that is now NOT_ASSESSED, or whose scope the new report did not cover, is
//! reported as such: never as resolved.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rdsguard_findings::{Finding, Report, Severity, Status};
use serde::Serialize;

use crate::text::finding_key;

/// How a failing finding changed between the two reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Failing now, not failing (or absent) before.
    New,
    /// Failing in both reports.
    Unchanged,
    /// Failing before; now passing, not applicable, or the resource is gone.
    Resolved,
    /// Failing before; now failing but suppressed.
    Suppressed,
    /// Failing before; now NOT_ASSESSED: unknown, not resolved.
    NotAssessed,
    /// Failing before; the new report did not cover its account, region or check.
    OutOfScope,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Unchanged => "unchanged",
            Change::Resolved => "resolved",
            Change::Suppressed => "suppressed",
            Change::NotAssessed => "not_assessed",
            Change::OutOfScope => "out_of_scope",
        }
    }
}

/// One failing finding (in either report) and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftEntry {
    pub change: Change,
    pub check_id: String,
    pub title: String,
    pub severity: Severity,
    pub resource_type: String,
    pub resource_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_arn: Option<String>,
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Status in the old report (`None`: absent).
    pub old_status: Option<Status>,
    /// Status in the new report (`None`: absent).
    pub new_status: Option<Status>,
    /// The most recent message about the resource.
    pub message: String,
}

/// Counts by change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DriftSummary {
    pub new: usize,
    pub unchanged: usize,
    pub resolved: usize,
    pub suppressed: usize,
    pub not_assessed: usize,
    pub out_of_scope: usize,
}

/// The drift between two reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    pub kind: String,
    pub old_collected_at: String,
    pub new_collected_at: String,
    pub summary: DriftSummary,
    /// Sorted by change (new first), severity (highest first), check, resource.
    pub entries: Vec<DriftEntry>,
}

/// Why two reports cannot be compared.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiffError {
    #[error("cannot compare a `{old}` report with a `{new}` report")]
    KindMismatch { old: String, new: String },
}

fn failing(f: &Finding) -> bool {
    f.status == Status::Fail && f.suppressed.is_none()
}

fn entry(change: Change, f: &Finding, old: Option<&Finding>, new: Option<&Finding>) -> DriftEntry {
    DriftEntry {
        change,
        check_id: f.check_id.to_string(),
        title: f.title.to_string(),
        severity: f.severity,
        resource_type: f.resource.resource_type.to_string(),
        resource_id: f.resource.id.clone(),
        resource_arn: f.resource.arn.clone(),
        account_id: f.resource.account_id.to_string(),
        region: f.resource.region.as_deref().map(str::to_string),
        old_status: old.map(|f| f.status),
        new_status: new.map(|f| f.status),
        message: f.message.to_string(),
    }
}

/// Compare two reports of the same kind.
pub fn diff(old: &Report, new: &Report) -> Result<Drift, DiffError> {
    if old.kind != new.kind {
        return Err(DiffError::KindMismatch {
            old: old.kind.clone(),
            new: new.kind.clone(),
        });
    }
    let old_by: BTreeMap<String, &Finding> =
        old.findings.iter().map(|f| (finding_key(f), f)).collect();
    let new_by: BTreeMap<String, &Finding> =
        new.findings.iter().map(|f| (finding_key(f), f)).collect();
    let covered = |f: &Finding| {
        new.accounts.iter().any(|a| *a == *f.resource.account_id)
            && f.resource
                .region
                .as_deref()
                .is_none_or(|r| new.regions.iter().any(|n| n == r))
            && new.checks.iter().any(|c| c.id == f.check_id)
    };

    let mut entries = Vec::new();
    for (key, n) in &new_by {
        let o = old_by.get(key).copied();
        if failing(n) {
            let change = if o.is_some_and(failing) {
                Change::Unchanged
            } else {
                Change::New
            };
            entries.push(entry(change, n, o, Some(n)));
        }
    }
    for (key, o) in &old_by {
        if !failing(o) {
            continue;
        }
        let n = new_by.get(key).copied();
        let change = match n {
            Some(n) if failing(n) => continue, // counted above
            Some(n) if n.status == Status::Fail => Change::Suppressed,
            Some(n) if n.status == Status::NotAssessed => Change::NotAssessed,
            Some(_) => Change::Resolved,
            None if covered(o) => Change::Resolved,
            None => Change::OutOfScope,
        };
        entries.push(entry(change, n.unwrap_or(o), Some(o), n));
    }
    entries.sort_by(|a, b| {
        a.change
            .cmp(&b.change)
            .then(b.severity.cmp(&a.severity))
            .then_with(|| a.check_id.cmp(&b.check_id))
            .then_with(|| a.account_id.cmp(&b.account_id))
            .then_with(|| a.region.cmp(&b.region))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
    });
    let mut summary = DriftSummary::default();
    for e in &entries {
        *match e.change {
            Change::New => &mut summary.new,
            Change::Unchanged => &mut summary.unchanged,
            Change::Resolved => &mut summary.resolved,
            Change::Suppressed => &mut summary.suppressed,
            Change::NotAssessed => &mut summary.not_assessed,
            Change::OutOfScope => &mut summary.out_of_scope,
        } += 1;
    }
    Ok(Drift {
        kind: new.kind.clone(),
        old_collected_at: old.collected_at.clone(),
        new_collected_at: new.collected_at.clone(),
        summary,
        entries,
    })
}

impl Drift {
    /// True when a new failure is at or above `threshold` (the `--fail-on` exit rule).
    pub fn new_failures_at(&self, threshold: Severity) -> bool {
        self.entries
            .iter()
            .any(|e| e.change == Change::New && e.severity >= threshold)
    }

    /// The drift as JSON (pretty, trailing newline).
    pub fn to_json(&self) -> String {
        crate::pretty(self)
    }

    /// The drift for a terminal: counts, then the new, resolved and doubtful entries (and
    /// the unchanged ones with `show_unchanged`).
    pub fn to_text(&self, color: bool, show_unchanged: bool) -> String {
        let paint = |code: &str, t: &str| {
            if color {
                format!("\x1b[{code}m{t}\x1b[0m")
            } else {
                t.to_string()
            }
        };
        let s = &self.summary;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} drift · {} → {}",
            paint("1", "rdsguard"),
            self.kind,
            self.old_collected_at,
            self.new_collected_at
        );
        let _ = writeln!(
            out,
            "{} new · {} resolved · {} unchanged · {} suppressed · {} now not assessed · {} out of scope",
            s.new, s.resolved, s.unchanged, s.suppressed, s.not_assessed, s.out_of_scope
        );
        let sections = [
            (Change::New, "New failures", "1;31"),
            (Change::Resolved, "Resolved", "32"),
            (
                Change::NotAssessed,
                "Failing before, now NOT ASSESSED (not resolved)",
                "1;33",
            ),
            (
                Change::OutOfScope,
                "Failing before, not covered by the new report",
                "33",
            ),
            (Change::Suppressed, "Failing, now suppressed", "2"),
            (Change::Unchanged, "Still failing", "0"),
        ];
        for (change, heading, code) in sections {
            if change == Change::Unchanged && !show_unchanged {
                continue;
            }
            let entries: Vec<&DriftEntry> =
                self.entries.iter().filter(|e| e.change == change).collect();
            if entries.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{}", paint(code, heading));
            for e in entries {
                let gone = if e.new_status.is_none() && e.change == Change::Resolved {
                    " (resource no longer present)"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  {:<13} {:<40} {}/{} {}: {}{gone}",
                    e.severity.as_str().to_uppercase(),
                    e.check_id,
                    e.account_id,
                    e.region.as_deref().unwrap_or("global"),
                    e.resource_id,
                    e.message
                );
            }
        }
        out
    }

    /// The drift as a Markdown comment: counts, then the new failures and what else changed.
    pub fn to_markdown(&self) -> String {
        use crate::markdown::escape;
        let s = &self.summary;
        let mut out = format!(
            "## rdsguard drift: {} new failure(s), {} resolved\n\n{} → {}\n\n| Change | Findings |\n|---|---:|\n| new | {} |\n| resolved | {} |\n| still failing | {} |\n| now suppressed | {} |\n| now not assessed | {} |\n| not covered by the new report | {} |\n",
            s.new,
            s.resolved,
            escape(&self.old_collected_at),
            escape(&self.new_collected_at),
            s.new,
            s.resolved,
            s.unchanged,
            s.suppressed,
            s.not_assessed,
            s.out_of_scope
        );
        for (change, heading) in [
            (Change::New, "New failures"),
            (Change::Resolved, "Resolved"),
            (Change::NotAssessed, "Failing before, now not assessed"),
            (
                Change::OutOfScope,
                "Failing before, not covered by the new report",
            ),
        ] {
            let entries: Vec<&DriftEntry> =
                self.entries.iter().filter(|e| e.change == change).collect();
            if entries.is_empty() {
                continue;
            }
            let _ = write!(
                out,
                "\n### {heading}\n\n| Severity | Check | Resource | Account/Region | Finding |\n|---|---|---|---|---|\n"
            );
            for e in entries {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {}/{} | {} |",
                    e.severity.as_str(),
                    escape(&e.check_id),
                    escape(&e.resource_id),
                    escape(&e.account_id),
                    escape(e.region.as_deref().unwrap_or("global")),
                    escape(&e.message)
                );
            }
        }
        out
    }
}

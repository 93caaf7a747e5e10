//! Markdown for pull-request comments (GitHub-flavoured): a summary table, the failing checks
//! with their resources in collapsed `<details>`, what could not be assessed, and the
//! compliance view when asked. Every string from the account is escaped (no raw HTML, no table
//! breakage), and the comment stays under GitHub's 65,536-character limit.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rdsguard_findings::{CheckMetadata, Finding, Report, Severity, Status};

use crate::compliance::{self, ControlStatus, Framework};
use crate::text::escape_html;

/// Leave room under GitHub's 65,536-character comment limit for the closing note.
const MAX_LEN: usize = 60_000;

/// Escape text for a Markdown table cell or paragraph.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn location(f: &Finding) -> String {
    format!(
        "{}/{}",
        f.resource.account_id,
        f.resource.region.as_deref().unwrap_or("global")
    )
}

/// Group unsuppressed findings of one status by check, in report order.
fn grouped(report: &Report, status: Status) -> Vec<(&str, Vec<&Finding>)> {
    let mut order: Vec<&str> = Vec::new();
    let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.status == status && f.suppressed.is_none())
    {
        let g = groups.entry(f.check_id.as_str()).or_default();
        if g.is_empty() {
            order.push(f.check_id.as_str());
        }
        g.push(f);
    }
    order
        .into_iter()
        .map(|id| (id, groups.remove(id).unwrap_or_default()))
        .collect()
}

/// Render the report as a Markdown comment.
pub fn render(report: &Report, framework: Option<&Framework>) -> String {
    let checks: BTreeMap<&str, &CheckMetadata> =
        report.checks.iter().map(|c| (c.id.as_str(), c)).collect();
    let s = &report.summary;
    let failing = grouped(report, Status::Fail);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## rdsguard {}: {} failing result(s) in {} check(s)\n",
        escape(&report.kind),
        s.fail,
        failing.len()
    );
    let _ = writeln!(
        out,
        "Snapshot of {} · {} account(s) · {} region(s) · rdsguard {}\n",
        escape(&report.collected_at),
        report.accounts.len(),
        report.regions.len(),
        escape(&report.tool_version)
    );
    out.push_str("| Status | Results |\n|---|---:|\n");
    let _ = writeln!(out, "| FAIL | {} |", s.fail);
    for sev in Severity::ALL {
        let _ = writeln!(
            out,
            "| &nbsp;&nbsp;{} | {} |",
            sev.as_str(),
            s.fail_by_severity.get(&sev).copied().unwrap_or(0)
        );
    }
    let _ = writeln!(
        out,
        "| NOT ASSESSED (never counted as pass) | {} |",
        s.not_assessed
    );
    let _ = writeln!(out, "| PASS | {} |", s.pass);
    let _ = writeln!(out, "| NOT APPLICABLE | {} |", s.not_applicable);
    let _ = writeln!(out, "| suppressed | {} |", s.suppressed);

    if let Some(fw) = framework {
        let view = compliance::view(report, fw);
        let _ = writeln!(out, "\n### {}\n", escape(&view.title));
        if view.controls.is_empty() {
            out.push_str("No check of this report maps to this framework.\n");
        } else {
            out.push_str(
                "| Control | Status | Pass rate | Pass | Fail | Not assessed | Checks |\n",
            );
            out.push_str("|---|---|---:|---:|---:|---:|---|\n");
            for c in &view.controls {
                let status = match c.status {
                    ControlStatus::Fail => "**FAIL**",
                    other => other.as_str(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {status} | {} | {} | {} | {} | {} |",
                    escape(&c.control),
                    compliance::format_rate(c.pass_rate),
                    c.pass,
                    c.fail,
                    c.not_assessed,
                    c.checks
                        .iter()
                        .map(|c| escape(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }

    if !failing.is_empty() {
        out.push_str("\n### Failing checks\n\n");
        out.push_str("| Severity | Check | Failing | Controls |\n|---|---|---:|---|\n");
        for (id, findings) in &failing {
            let meta = checks.get(id);
            let sev = findings
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Informational);
            let title = meta
                .map(|m| m.title.as_str())
                .unwrap_or(findings[0].title.as_str());
            let controls: Vec<String> = meta
                .map(|m| {
                    m.compliance
                        .fsbp
                        .iter()
                        .map(|c| format!("FSBP {c}"))
                        .chain(m.compliance.cis.iter().map(|c| format!("CIS {c}")))
                        .collect()
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | **{}** {} | {} | {} |",
                sev.as_str(),
                escape(id),
                escape(title),
                findings.len(),
                escape(&controls.join(", "))
            );
        }
        out.push('\n');
        let mut omitted = 0;
        for (id, findings) in &failing {
            let meta = checks.get(id);
            let mut block = String::new();
            let _ = writeln!(
                block,
                "<details><summary><b>{}</b>: {} ({})</summary>\n",
                escape_html(id),
                escape_html(
                    meta.map(|m| m.title.as_str())
                        .unwrap_or(findings[0].title.as_str())
                ),
                findings.len()
            );
            block.push_str("| Resource | Account/Region | Finding |\n|---|---|---|\n");
            for f in findings {
                let _ = writeln!(
                    block,
                    "| {} | {} | {} |",
                    escape(&f.resource.id),
                    escape(&location(f)),
                    escape(&f.message)
                );
            }
            if let Some(m) = meta {
                let _ = writeln!(block, "\n**Remediation.** {}", escape(&m.remediation));
            }
            block.push_str("\n</details>\n\n");
            if out.len() + block.len() > MAX_LEN {
                omitted += 1;
                continue;
            }
            out.push_str(&block);
        }
        if omitted > 0 {
            let _ = writeln!(
                out,
                "_Details of {omitted} more failing check(s) left out to fit a comment: see the full report (`--format html` or `json`)._\n"
            );
        }
    }

    let unassessed = grouped(report, Status::NotAssessed);
    if !unassessed.is_empty() {
        let n: usize = unassessed.iter().map(|(_, v)| v.len()).sum();
        let mut block = format!(
            "### Not assessed\n\n<details><summary>{n} result(s) could not be assessed (missing data; never counted as pass)</summary>\n\n| Check | Resource | Account/Region | Reason |\n|---|---|---|---|\n"
        );
        for (id, findings) in &unassessed {
            for f in findings {
                let _ = writeln!(
                    block,
                    "| {} | {} | {} | {} |",
                    escape(id),
                    escape(&f.resource.id),
                    escape(&location(f)),
                    escape(&f.message)
                );
            }
        }
        block.push_str("\n</details>\n");
        if out.len() + block.len() > MAX_LEN {
            let _ = writeln!(
                out,
                "### Not assessed\n\n{n} result(s) could not be assessed (list left out to fit a comment)."
            );
        } else {
            out.push_str(&block);
        }
    }
    out
}

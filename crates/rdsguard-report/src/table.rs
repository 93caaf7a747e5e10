//! The terminal summary for people: counts, failing checks with their resources, what could
//! not be assessed and why; or, with `--compliance`, the controls of a framework.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rdsguard_findings::{CheckMetadata, Finding, Report, Severity, Status};

use crate::RenderOptions;
use crate::compliance::{self, ComplianceView, ControlStatus};

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    fn severity(&self, sev: Severity) -> String {
        let label = format!("{:<8}", sev.as_str().to_uppercase());
        let code = match sev {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Informational => "2",
        };
        self.paint(code, &label)
    }
    fn status(&self, status: Status) -> String {
        let code = match status {
            Status::Pass => "32",
            Status::Fail => "1;31",
            Status::NotAssessed => "1;33",
            Status::NotApplicable => "2",
        };
        self.paint(code, status.as_str())
    }
}

/// Text from the account (names, tag values, messages) with control characters replaced, so
/// that it cannot move the cursor or change colours on the user's terminal.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn location(f: &Finding) -> String {
    match &f.resource.region {
        Some(r) => format!("{}/{}", f.resource.account_id, r),
        None => f.resource.account_id.clone(),
    }
}

/// The terminal summary: counts by severity, then the failing checks with their resources, then
/// what could not be assessed and why.
pub fn render_table(report: &Report, opts: &RenderOptions) -> String {
    let st = Style { color: opts.color };
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} {} · {} account(s) · {} region(s) · snapshot of {}",
        st.bold("rdsguard"),
        report.kind,
        report.accounts.len(),
        report.regions.len(),
        report.collected_at
    );
    let _ = writeln!(
        out,
        "{} results: {} {} · {} {} · {} {} · {} {}{}",
        s.total,
        s.fail,
        st.status(Status::Fail),
        s.pass,
        st.status(Status::Pass),
        s.not_assessed,
        st.status(Status::NotAssessed),
        s.not_applicable,
        st.status(Status::NotApplicable),
        if s.suppressed > 0 {
            format!(" · {} suppressed", s.suppressed)
        } else {
            String::new()
        }
    );
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .map(|sev| {
            format!(
                "{} {}",
                st.severity(*sev).trim_end(),
                s.fail_by_severity.get(sev).copied().unwrap_or(0)
            )
        })
        .collect();
    let _ = writeln!(out, "failures by severity: {}", by_sev.join(" · "));

    let checks: BTreeMap<&str, &CheckMetadata> =
        report.checks.iter().map(|c| (c.id.as_str(), c)).collect();

    section(
        &mut out,
        &st,
        report,
        &checks,
        Status::Fail,
        "Failing checks",
        opts.show_all,
    );
    section(
        &mut out,
        &st,
        report,
        &checks,
        Status::NotAssessed,
        "Not assessed (missing data: never counted as PASS)",
        opts.show_all,
    );
    if opts.show_all {
        section(
            &mut out,
            &st,
            report,
            &checks,
            Status::Pass,
            "Passing checks",
            true,
        );
        section(
            &mut out,
            &st,
            report,
            &checks,
            Status::NotApplicable,
            "Not applicable",
            true,
        );
    }
    let suppressed: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    if !suppressed.is_empty() {
        let _ = writeln!(out, "\n{}", st.bold("Suppressed"));
        for f in suppressed {
            if let Some(sup) = &f.suppressed {
                let _ = writeln!(
                    out,
                    "  {} {} {}: {}{}",
                    f.check_id,
                    location(f),
                    clean(&f.resource.id),
                    clean(&sup.reason),
                    sup.expires
                        .as_deref()
                        .map(|e| format!(" (until {e})"))
                        .unwrap_or_default()
                );
            }
        }
    }
    if s.fail > 0 {
        let _ = writeln!(
            out,
            "\n{}",
            st.dim("Evidence and remediation for each finding: rdsguard audit --format json; catalogue: rdsguard checks")
        );
    }
    out
}

fn section(
    out: &mut String,
    st: &Style,
    report: &Report,
    checks: &BTreeMap<&str, &CheckMetadata>,
    status: Status,
    heading: &str,
    opts_show_all: bool,
) {
    // Group by check, keeping the report's order (severity first).
    let mut order: Vec<&str> = Vec::new();
    let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.status == status && f.suppressed.is_none())
    {
        let e = groups.entry(f.check_id.as_str()).or_default();
        if e.is_empty() {
            order.push(f.check_id.as_str());
        }
        e.push(f);
    }
    if order.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", st.bold(heading));
    for id in order {
        let findings = &groups[id];
        let sev = findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Informational);
        let title = checks
            .get(id)
            .map(|c| c.title.as_str())
            .unwrap_or(findings[0].title.as_str());
        let controls = checks
            .get(id)
            .map(|c| {
                let mut v: Vec<String> = c
                    .compliance
                    .fsbp
                    .iter()
                    .map(|x| format!("FSBP {x}"))
                    .collect();
                v.extend(c.compliance.cis.iter().map(|x| format!("CIS {x}")));
                v
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {} {}{}",
            if status == Status::Fail {
                st.severity(sev)
            } else {
                st.status(status)
            },
            st.bold(id),
            clean(title),
            if controls.is_empty() {
                String::new()
            } else {
                st.dim(&format!("  [{}]", controls.join(", ")))
            }
        );
        // Graded checks (e.g. certificate expiry) mix severities: show each line's own.
        let mixed = findings.iter().any(|f| f.severity != sev);
        // A large account fails some checks on thousands of resources: the first ones tell
        // what is wrong, the count tells how much (every one is in --show-all and the JSON).
        let shown = if opts_show_all {
            findings.len()
        } else {
            findings.len().min(ROWS_PER_CHECK)
        };
        for f in &findings[..shown] {
            let _ = writeln!(
                out,
                "    {}{:<28} {:<32} {}",
                if mixed && status == Status::Fail {
                    format!("{} ", st.severity(f.severity))
                } else {
                    String::new()
                },
                location(f),
                clean(&f.resource.id),
                shorten(
                    &clean(&f.message),
                    if opts_show_all {
                        usize::MAX
                    } else {
                        MESSAGE_WIDTH
                    }
                )
            );
        }
        if shown < findings.len() {
            let _ = writeln!(
                out,
                "    {}",
                st.dim(&format!(
                    "… and {} more (--show-all lists every one; --format json has them all)",
                    findings.len() - shown
                ))
            );
        }
    }
}

/// Resources listed per check unless `--show-all`.
const ROWS_PER_CHECK: usize = 25;

/// Longest message shown in the table unless `--show-all`; the JSON always has all of it.
const MESSAGE_WIDTH: usize = 240;

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// The terminal view of one compliance framework: one line per control with its status and
/// pass rate, then the failing resources of each failing control.
pub fn render_compliance(report: &Report, view: &ComplianceView, opts: &RenderOptions) -> String {
    let st = Style { color: opts.color };
    let mut out = String::new();
    let s = &view.summary;
    let _ = writeln!(
        out,
        "{} {} · {} account(s) · {} region(s) · snapshot of {}",
        st.bold("rdsguard"),
        view.title,
        view.accounts.len(),
        view.regions.len(),
        view.collected_at
    );
    let _ = writeln!(
        out,
        "{} controls: {} {} · {} {} · {} {} · {} {}",
        s.controls,
        s.fail,
        st.status(Status::Fail),
        s.pass,
        st.status(Status::Pass),
        s.not_assessed,
        st.status(Status::NotAssessed),
        s.not_applicable,
        st.status(Status::NotApplicable),
    );
    if view.available_versions.len() > 1 {
        let _ = writeln!(
            out,
            "{}",
            st.dim(&format!(
                "versions mapped: {} (choose with --compliance {}:VERSION)",
                view.available_versions.join(", "),
                view.framework
            ))
        );
    }
    if view.controls.is_empty() {
        let _ = writeln!(out, "\nNo check of this report maps to {}.", view.title);
        return out;
    }
    let width = view
        .controls
        .iter()
        .map(|c| c.control.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        out,
        "\n{}",
        st.bold(&format!(
            "{:<width$}  {:<14}  {:>9}  {:>4} {:>4} {:>10}  checks",
            "control", "status", "pass rate", "pass", "fail", "unassessed"
        ))
    );
    for c in &view.controls {
        let status = match c.status {
            ControlStatus::Fail => Status::Fail,
            ControlStatus::NotAssessed => Status::NotAssessed,
            ControlStatus::Pass => Status::Pass,
            ControlStatus::NotApplicable => Status::NotApplicable,
        };
        let label = format!("{:<14}", c.status.as_str());
        let painted = st.status(status).replace(status.as_str(), &label);
        let _ = writeln!(
            out,
            "{:<width$}  {}  {:>9}  {:>4} {:>4} {:>10}  {}{}",
            c.control,
            painted,
            compliance::format_rate(c.pass_rate),
            c.pass,
            c.fail,
            c.not_assessed,
            c.checks.join(", "),
            if c.suppressed > 0 {
                format!(" ({} suppressed)", c.suppressed)
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(
        out,
        "{}",
        st.dim("pass rate = pass / (pass + fail); unassessed results are never counted as pass")
    );
    for c in view
        .controls
        .iter()
        .filter(|c| c.status == ControlStatus::Fail)
    {
        let _ = writeln!(
            out,
            "\n{} {}",
            st.bold(&c.control),
            clean(&c.titles.join(" / "))
        );
        for f in report.findings.iter().filter(|f| {
            f.status == Status::Fail
                && f.suppressed.is_none()
                && c.checks.iter().any(|id| *id == f.check_id)
        }) {
            let _ = writeln!(
                out,
                "    {:<28} {:<32} {}",
                location(f),
                clean(&f.resource.id),
                clean(&f.message)
            );
        }
    }
    out
}

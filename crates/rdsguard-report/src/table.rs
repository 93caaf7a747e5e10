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
        None => f.resource.account_id.to_string(),
    }
}

/// The terminal summary: counts by severity, then the failing checks with their resources, then
/// what could not be assessed and why.
pub fn render_table(report: &Report, opts: &RenderOptions) -> String {
    let digest = TableDigest::of_report(report, opts.show_all);
    render_digest(&digest, opts)
}

/// One result as the table needs it before it is explained.
#[derive(Debug, Clone, Copy)]
pub struct ResultKey<'a> {
    pub status: Status,
    pub severity: Severity,
    pub check_id: &'a str,
    pub suppressed: bool,
}

impl<'a> From<(Status, Severity, &'a str, bool)> for ResultKey<'a> {
    /// From (status, severity, check id, suppressed).
    fn from((status, severity, check_id, suppressed): (Status, Severity, &'a str, bool)) -> Self {
        ResultKey {
            status,
            severity,
            check_id,
            suppressed,
        }
    }
}

/// The checks of one status in the table, in report order.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRows {
    pub check_id: String,
    /// Results of the check with this status (unsuppressed), listed or not.
    pub total: usize,
    /// The highest severity among them.
    pub severity: Severity,
    /// Whether their severities differ (graded checks).
    pub mixed: bool,
    /// The first of them (all with `--show-all`), explained.
    pub rows: Vec<Finding>,
}

/// What the summary table shows of a report: every count, and only the findings it lists.
///
/// Built from a whole report, or from results not yet explained ([`TableDigest::build`]):
/// `audit` explains only what the table lists, which is all the table costs on an account
/// with millions of results.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDigest {
    /// The report's header and summary; its `findings` are not read.
    pub head: Report,
    /// FAIL and NOT_ASSESSED (and, with `--show-all`, PASS and NOT_APPLICABLE) in that order.
    pub sections: Vec<(Status, Vec<CheckRows>)>,
    /// Every suppressed result.
    pub suppressed: Vec<Finding>,
}

impl TableDigest {
    /// The digest of a whole report.
    pub fn of_report(report: &Report, show_all: bool) -> TableDigest {
        let head = report.clone_head();
        let keys: Vec<ResultKey<'_>> = report
            .findings
            .iter()
            .map(|f| ResultKey {
                status: f.status,
                severity: f.severity,
                check_id: &f.check_id,
                suppressed: f.suppressed.is_some(),
            })
            .collect();
        let Ok(digest) = TableDigest::build(head, &keys, show_all, |wanted| {
            Ok::<_, std::convert::Infallible>(
                wanted.iter().map(|&i| report.findings[i].clone()).collect(),
            )
        });
        digest
    }

    /// The digest of results given in report order (`keys`), under the header `head`:
    /// `explain` is asked once, for the positions (in `keys`) of the results listed, and
    /// returns their findings in that order.
    pub fn build<E>(
        head: Report,
        keys: &[ResultKey<'_>],
        show_all: bool,
        explain: impl FnOnce(&[usize]) -> Result<Vec<Finding>, E>,
    ) -> Result<TableDigest, E> {
        let mut statuses = vec![Status::Fail, Status::NotAssessed];
        if show_all {
            statuses.extend([Status::Pass, Status::NotApplicable]);
        }
        // (status, check) groups in report order, with the positions of the results listed.
        struct Group<'k> {
            status: Status,
            check_id: &'k str,
            total: usize,
            severity: Severity,
            mixed: bool,
            listed: Vec<usize>,
        }
        let mut groups: Vec<Group<'_>> = Vec::new();
        let mut index: BTreeMap<(u8, &str), usize> = BTreeMap::new();
        let mut suppressed: Vec<usize> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            if k.suppressed {
                suppressed.push(i);
                continue;
            }
            let Some(rank) = statuses.iter().position(|s| *s == k.status) else {
                continue;
            };
            let g = *index.entry((rank as u8, k.check_id)).or_insert_with(|| {
                groups.push(Group {
                    status: k.status,
                    check_id: k.check_id,
                    total: 0,
                    severity: k.severity,
                    mixed: false,
                    listed: Vec::new(),
                });
                groups.len() - 1
            });
            let group = &mut groups[g];
            group.total += 1;
            group.mixed |= k.severity != group.severity;
            group.severity = group.severity.max(k.severity);
            if show_all || group.listed.len() < ROWS_PER_CHECK {
                group.listed.push(i);
            }
        }
        let wanted: Vec<usize> = groups
            .iter()
            .flat_map(|g| g.listed.iter().copied())
            .chain(suppressed.iter().copied())
            .collect();
        let mut explained = explain(&wanted)?.into_iter();
        let mut sections: Vec<(Status, Vec<CheckRows>)> =
            statuses.iter().map(|s| (*s, Vec::new())).collect();
        for g in &groups {
            let rows: Vec<Finding> = explained.by_ref().take(g.listed.len()).collect();
            if let Some((_, checks)) = sections.iter_mut().find(|(s, _)| *s == g.status) {
                checks.push(CheckRows {
                    check_id: g.check_id.to_string(),
                    total: g.total,
                    severity: g.severity,
                    mixed: g.mixed,
                    rows,
                });
            }
        }
        Ok(TableDigest {
            head,
            sections,
            suppressed: explained.collect(),
        })
    }
}

/// Render a [`TableDigest`]: exactly [`render_table`] of the report it digests.
pub fn render_digest(digest: &TableDigest, opts: &RenderOptions) -> String {
    let report = &digest.head;
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
    for (status, rows) in &digest.sections {
        let heading = match status {
            Status::Fail => "Failing checks",
            Status::NotAssessed => "Not assessed (missing data: never counted as PASS)",
            Status::Pass => "Passing checks",
            Status::NotApplicable => "Not applicable",
        };
        section(
            &mut out,
            &st,
            &checks,
            *status,
            rows,
            heading,
            opts.show_all,
        );
    }
    if !digest.suppressed.is_empty() {
        let _ = writeln!(out, "\n{}", st.bold("Suppressed"));
        for f in &digest.suppressed {
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
    checks: &BTreeMap<&str, &CheckMetadata>,
    status: Status,
    groups: &[CheckRows],
    heading: &str,
    opts_show_all: bool,
) {
    if groups.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", st.bold(heading));
    for group in groups {
        let id = group.check_id.as_str();
        let sev = group.severity;
        let title = checks
            .get(id)
            .map(|c| c.title.as_str())
            .or(group.rows.first().map(|f| f.title.as_str()))
            .unwrap_or_default();
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
        // A large account fails some checks on thousands of resources: the first ones tell
        // what is wrong, the count tells how much (every one is in --show-all and the JSON).
        for f in &group.rows {
            let _ = writeln!(
                out,
                "    {}{:<28} {:<32} {}",
                if group.mixed && status == Status::Fail {
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
        if group.rows.len() < group.total {
            let _ = writeln!(
                out,
                "    {}",
                st.dim(&format!(
                    "… and {} more (--show-all lists every one; --format json has them all)",
                    group.total - group.rows.len()
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

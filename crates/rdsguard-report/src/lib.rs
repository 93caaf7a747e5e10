//! Report renderers. Each format is a plain serializer of [`Report`]: the terminal summary
//! (`table`) for people, and the stable JSON schema (`json`, documented in docs/report-json.md)
//! for scripts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rdsguard_findings::{CheckMetadata, Finding, Report, Severity, Status};

/// Output formats of `rdsguard audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format `{other}` (expected table or json)")),
        }
    }
}

/// Options of the terminal renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// ANSI colours (only on a terminal, never with NO_COLOR).
    pub color: bool,
    /// Also list passing and not-applicable results.
    pub show_all: bool,
}

/// Render a report in the given format.
pub fn render(report: &Report, format: Format, opts: TableOptions) -> String {
    match format {
        Format::Table => render_table(report, opts),
        Format::Json => render_json(report),
    }
}

/// The stable JSON document (pretty-printed, trailing newline).
pub fn render_json(report: &Report) -> String {
    // Serializing plain data structures cannot fail; fall back to an error object regardless.
    let mut s = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize report: {e}\"}}"));
    s.push('\n');
    s
}

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

fn location(f: &Finding) -> String {
    match &f.resource.region {
        Some(r) => format!("{}/{}", f.resource.account_id, r),
        None => f.resource.account_id.clone(),
    }
}

/// The terminal summary: counts by severity, then the failing checks with their resources, then
/// what could not be assessed and why.
pub fn render_table(report: &Report, opts: TableOptions) -> String {
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

    section(&mut out, &st, report, &checks, Status::Fail, "Failing checks");
    section(&mut out, &st, report, &checks, Status::NotAssessed, "Not assessed (missing data: never counted as PASS)");
    if opts.show_all {
        section(&mut out, &st, report, &checks, Status::Pass, "Passing checks");
        section(&mut out, &st, report, &checks, Status::NotApplicable, "Not applicable");
    }
    let suppressed: Vec<&Finding> = report.findings.iter().filter(|f| f.suppressed.is_some()).collect();
    if !suppressed.is_empty() {
        let _ = writeln!(out, "\n{}", st.bold("Suppressed"));
        for f in suppressed {
            if let Some(sup) = &f.suppressed {
                let _ = writeln!(
                    out,
                    "  {} {} {}: {}{}",
                    f.check_id,
                    location(f),
                    f.resource.id,
                    sup.reason,
                    sup.expires.as_deref().map(|e| format!(" (until {e})")).unwrap_or_default()
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
        let sev = findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Informational);
        let title = checks.get(id).map(|c| c.title.as_str()).unwrap_or(findings[0].title.as_str());
        let controls = checks
            .get(id)
            .map(|c| {
                let mut v: Vec<String> = c.compliance.fsbp.iter().map(|x| format!("FSBP {x}")).collect();
                v.extend(c.compliance.cis.iter().map(|x| format!("CIS {x}")));
                v
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {} {}{}",
            if status == Status::Fail { st.severity(sev) } else { st.status(status) },
            st.bold(id),
            title,
            if controls.is_empty() {
                String::new()
            } else {
                st.dim(&format!("  [{}]", controls.join(", ")))
            }
        );
        for f in findings.iter() {
            let _ = writeln!(
                out,
                "    {:<28} {:<32} {}",
                location(f),
                f.resource.id,
                f.message
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdsguard_findings::{Compliance, ResourceRef};

    fn finding(id: &str, status: Status, sev: Severity, res: &str) -> Finding {
        Finding {
            check_id: id.into(),
            title: format!("title of {id}"),
            severity: sev,
            status,
            resource: ResourceRef {
                resource_type: "AwsRdsDbInstance".into(),
                id: res.into(),
                arn: Some(format!("arn:aws:rds:us-east-1:111122223333:db:{res}")),
                account_id: "111122223333".into(),
                region: Some("us-east-1".into()),
            },
            message: format!("{res} is {status}"),
            evidence: BTreeMap::new(),
            suppressed: None,
        }
    }

    fn report() -> Report {
        let meta = CheckMetadata {
            id: "rds_instance_storage_encrypted".into(),
            title: "RDS DB instance storage is encrypted at rest".into(),
            severity: Severity::High,
            resource_type: "AwsRdsDbInstance".into(),
            description: "d".into(),
            rationale: "r".into(),
            remediation: "m".into(),
            compliance: Compliance {
                cis: vec!["v5.0.0/2.2.1".into()],
                fsbp: vec!["RDS.3".into()],
                mitre_attack: vec![],
            },
        };
        Report::new(
            "audit",
            "2026-06-01T00:00:00Z".into(),
            vec!["111122223333".into()],
            vec!["us-east-1".into()],
            vec![meta],
            vec![
                finding("rds_instance_storage_encrypted", Status::Pass, Severity::High, "good-db"),
                finding("rds_instance_storage_encrypted", Status::Fail, Severity::High, "bad-db"),
                finding("rds_instance_storage_encrypted", Status::NotAssessed, Severity::High, "odd-db"),
            ],
        )
    }

    #[test]
    fn table_lists_failures_and_gaps_not_passes() {
        let text = render_table(&report(), TableOptions::default());
        insta::assert_snapshot!(text);
        assert!(text.contains("bad-db"));
        assert!(text.contains("odd-db"));
        assert!(!text.contains("good-db"));
        assert!(!text.contains('\x1b'), "no colour unless asked");
    }

    #[test]
    fn json_round_trips() {
        let r = report();
        let back: Report = serde_json::from_str(&render_json(&r)).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.summary.fail, 1);
    }
}

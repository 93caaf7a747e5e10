//! JUnit XML for CI test reports: one `<testsuite>` per check, one `<testcase>` per resource.
//! FAIL is a `<failure>` (type = severity, body = evidence and remediation); NOT_ASSESSED,
//! NOT_APPLICABLE and suppressed failures are `<skipped>` with the reason; PASS is a plain
//! testcase. Follows the de-facto schema CI servers read (Jenkins, GitLab, GitHub actions).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rdsguard_findings::{CheckMetadata, Finding, Report, Status};

use crate::text::{escape_xml, value_text};

/// Render the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let checks: BTreeMap<&str, &CheckMetadata> =
        report.checks.iter().map(|c| (c.id.as_str(), c)).collect();
    // Suites in catalogue order, then checks only seen in findings.
    let mut order: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    for f in &report.findings {
        if !order.contains(&f.check_id.as_str()) {
            order.push(f.check_id.as_str());
        }
    }
    let mut suites: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        suites.entry(f.check_id.as_str()).or_default().push(f);
    }

    fn failed(f: &&Finding) -> bool {
        f.status == Status::Fail && f.suppressed.is_none()
    }
    let total = report.findings.len();
    let failures = report.findings.iter().filter(failed).count();
    let skipped = report
        .findings
        .iter()
        .filter(|f| f.status != Status::Pass && !failed(f))
        .count();

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"rdsguard {}\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\" timestamp=\"{}\">",
        escape_xml(&report.kind),
        escape_xml(&report.collected_at)
    );
    for id in order {
        let findings = suites.get(id).map(Vec::as_slice).unwrap_or(&[]);
        let meta = checks.get(id);
        let suite_failures = findings.iter().filter(|f| failed(f)).count();
        let suite_skipped = findings
            .iter()
            .filter(|f| f.status != Status::Pass && !failed(f))
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failures}\" errors=\"0\" skipped=\"{suite_skipped}\" time=\"0\" timestamp=\"{}\">",
            escape_xml(id),
            findings.len(),
            escape_xml(&report.collected_at)
        );
        if let Some(m) = meta {
            out.push_str("    <properties>\n");
            let mut prop = |name: &str, value: &str| {
                let _ = writeln!(
                    out,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    escape_xml(name),
                    escape_xml(value)
                );
            };
            prop("title", &m.title);
            prop("severity", m.severity.as_str());
            prop("resource_type", &m.resource_type);
            if !m.compliance.cis.is_empty() {
                prop("cis", &m.compliance.cis.join(" "));
            }
            if !m.compliance.fsbp.is_empty() {
                prop("fsbp", &m.compliance.fsbp.join(" "));
            }
            out.push_str("    </properties>\n");
        }
        for f in findings {
            let name = format!(
                "{}/{} {}",
                f.resource.account_id,
                f.resource.region.as_deref().unwrap_or("global"),
                f.resource.id
            );
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"rdsguard.{}\" time=\"0\"",
                escape_xml(&name),
                escape_xml(id)
            );
            match (f.status, &f.suppressed) {
                (Status::Pass, _) => out.push_str("/>\n"),
                (Status::Fail, None) => {
                    out.push_str(">\n");
                    let mut body = format!("{}\n", f.message);
                    if let Some(arn) = &f.resource.arn {
                        let _ = writeln!(body, "resource: {arn}");
                    }
                    for (k, v) in &f.evidence {
                        let _ = writeln!(body, "{k}: {}", value_text(v));
                    }
                    if let Some(m) = meta {
                        let _ = writeln!(body, "remediation: {}", m.remediation);
                    }
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                        escape_xml(&f.message),
                        f.severity.as_str().to_uppercase(),
                        escape_xml(&body)
                    );
                    out.push_str("    </testcase>\n");
                }
                (status, suppressed) => {
                    let message = match suppressed {
                        Some(s) => format!("suppressed: {}", s.reason),
                        None => format!("{status}: {}", f.message),
                    };
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape_xml(&message)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

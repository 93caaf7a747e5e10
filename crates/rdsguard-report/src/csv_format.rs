//! CSV: one row per finding, for spreadsheets. Cells that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`, tab or carriage return: resource names and tag values come
//! from the account and can be chosen by anyone who can create resources) are prefixed with `'`
//! (OWASP's CSV-injection advice).

use std::collections::BTreeMap;

use rdsguard_findings::{CheckMetadata, Report};

/// The header row, in column order.
pub const COLUMNS: [&str; 17] = [
    "status",
    "severity",
    "check_id",
    "title",
    "resource_type",
    "resource_id",
    "resource_arn",
    "account_id",
    "region",
    "message",
    "suppressed",
    "suppression_reason",
    "suppression_expires",
    "cis",
    "fsbp",
    "remediation",
    "evidence",
];

/// Render every finding as CSV (RFC 4180 quoting, `\n` line ends, header first).
pub fn render(report: &Report) -> String {
    let checks: BTreeMap<&str, &CheckMetadata> =
        report.checks.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail except on invalid input, which strings are not.
    let _ = w.write_record(COLUMNS);
    for f in &report.findings {
        let meta = checks.get(f.check_id.as_str());
        let join = |v: Option<&Vec<String>>| v.map(|v| v.join(" ")).unwrap_or_default();
        let evidence = if f.evidence.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&f.evidence).unwrap_or_default()
        };
        let row = [
            f.status.as_str().to_string(),
            f.severity.as_str().to_string(),
            f.check_id.to_string(),
            f.title.to_string(),
            f.resource.resource_type.to_string(),
            f.resource.id.clone(),
            f.resource.arn.clone().unwrap_or_default(),
            f.resource.account_id.to_string(),
            f.resource.region.as_deref().unwrap_or_default().to_string(),
            f.message.to_string(),
            f.suppressed.is_some().to_string(),
            f.suppressed
                .as_ref()
                .map(|s| s.reason.clone())
                .unwrap_or_default(),
            f.suppressed
                .as_ref()
                .and_then(|s| s.expires.clone())
                .unwrap_or_default(),
            join(meta.map(|m| &m.compliance.cis)),
            join(meta.map(|m| &m.compliance.fsbp)),
            meta.map(|m| m.remediation.clone()).unwrap_or_default(),
            evidence,
        ];
        let _ = w.write_record(row.iter().map(|c| neutralise_formula(c).into_owned()));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

fn neutralise_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

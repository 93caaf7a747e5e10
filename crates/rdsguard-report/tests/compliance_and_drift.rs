//! Compliance views and drift between reports.

mod common;

use common::{ACCOUNT, checks, finding, fixture};
use rdsguard_findings::{Report, Severity, Status};
use rdsguard_report::compliance::{ControlStatus, view};
use rdsguard_report::diff::{Change, DiffError, diff};
use rdsguard_report::{Format, Framework, RenderOptions, render};
use serde_json::json;

#[test]
fn framework_names_parse() {
    assert_eq!("fsbp".parse::<Framework>(), Ok(Framework::Fsbp));
    assert_eq!(
        "cis-aws-foundations".parse::<Framework>(),
        Ok(Framework::CisAwsFoundations { version: None })
    );
    assert_eq!(
        "cis-aws-foundations:5.0.0".parse::<Framework>(),
        Ok(Framework::CisAwsFoundations {
            version: Some("v5.0.0".into())
        })
    );
    assert!("pci".parse::<Framework>().is_err());
}

#[test]
fn fsbp_controls_have_statuses_and_pass_rates() {
    let v = view(&fixture(), &Framework::Fsbp);
    let ctl = |id: &str| v.controls.iter().find(|c| c.control == id).unwrap();
    // RDS.3: good-db PASS, bad-db FAIL, odd-db NOT_ASSESSED, legacy-db suppressed.
    let rds3 = ctl("RDS.3");
    assert_eq!(rds3.status, ControlStatus::Fail);
    assert_eq!(
        (rds3.pass, rds3.fail, rds3.not_assessed, rds3.suppressed),
        (1, 1, 1, 1)
    );
    assert_eq!(rds3.pass_rate, Some(0.5));
    assert_eq!(ctl("RDS.1").status, ControlStatus::Fail);
    assert_eq!(ctl("RDS.30").pass_rate, Some(0.5));
    // Natural order of control ids.
    let ids: Vec<&str> = v.controls.iter().map(|c| c.control.as_str()).collect();
    assert_eq!(ids, vec!["RDS.1", "RDS.3", "RDS.30"]);
    assert_eq!(v.summary.fail, 3);
}

#[test]
fn a_control_with_gaps_and_no_failure_is_not_assessed_not_pass() {
    let c = checks();
    let findings = vec![
        finding(
            &c[0],
            Status::Pass,
            "AwsRdsDbInstance",
            "a",
            Some("us-east-1"),
            json!({}),
        ),
        finding(
            &c[0],
            Status::NotAssessed,
            "AwsRdsDbInstance",
            "b",
            Some("us-east-1"),
            json!({}),
        ),
        finding(
            &c[2],
            Status::Pass,
            "AwsRdsDbInstance",
            "a",
            Some("us-east-1"),
            json!({}),
        ),
        finding(
            &c[1],
            Status::NotApplicable,
            "AwsRdsDbSnapshot",
            "s",
            Some("us-east-1"),
            json!({}),
        ),
    ];
    let r = Report::new(
        "audit",
        "2026-06-01T00:00:00Z".into(),
        vec![ACCOUNT.into()],
        vec!["us-east-1".into()],
        c,
        findings,
    );
    let v = view(&r, &Framework::Fsbp);
    let ctl = |id: &str| v.controls.iter().find(|c| c.control == id).unwrap();
    assert_eq!(ctl("RDS.3").status, ControlStatus::NotAssessed);
    assert_eq!(
        ctl("RDS.3").pass_rate,
        Some(1.0),
        "rate over assessed results"
    );
    assert_eq!(ctl("RDS.30").status, ControlStatus::Pass);
    assert_eq!(ctl("RDS.1").status, ControlStatus::NotApplicable);
    assert_eq!(ctl("RDS.1").pass_rate, None);
}

#[test]
fn cis_view_uses_the_newest_version_unless_asked() {
    let r = fixture();
    let v = view(&r, &Framework::CisAwsFoundations { version: None });
    assert_eq!(v.version.as_deref(), Some("v5.0.0"));
    assert_eq!(v.available_versions, vec!["v1.4.0", "v5.0.0"]);
    let ids: Vec<&str> = v.controls.iter().map(|c| c.control.as_str()).collect();
    assert_eq!(ids, vec!["1.17", "2.2.1"]);
    let old = view(
        &r,
        &Framework::CisAwsFoundations {
            version: Some("v1.4.0".into()),
        },
    );
    let ids: Vec<&str> = old.controls.iter().map(|c| c.control.as_str()).collect();
    assert_eq!(ids, vec!["2.3.1"]);
    assert_eq!(old.title, "CIS AWS Foundations Benchmark v1.4.0");
}

#[test]
fn compliance_renders_in_table_json_markdown_and_html() {
    let r = fixture();
    let opts = RenderOptions {
        compliance: Some(Framework::Fsbp),
        ..Default::default()
    };
    let table = render(&r, Format::Table, &opts);
    insta::assert_snapshot!("compliance_table", table);
    assert!(table.contains("RDS.3") && table.contains("50%"));
    let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json, &opts)).unwrap();
    assert_eq!(json["framework"], "fsbp");
    assert_eq!(json["controls"][1]["control"], "RDS.3");
    assert_eq!(json["controls"][1]["status"], "FAIL");
    assert!(
        render(&r, Format::Markdown, &opts)
            .contains("### AWS Foundational Security Best Practices")
    );
    let html = render(&r, Format::Html, &opts);
    assert!(html.contains("id=\"compliance-fsbp\""));
    assert!(
        !html.contains("id=\"compliance-cis-aws-foundations\""),
        "only the framework asked for"
    );
    let all = render(&r, Format::Html, &RenderOptions::default());
    assert!(
        all.contains("id=\"compliance-cis-aws-foundations\"")
            && all.contains("id=\"compliance-fsbp\"")
    );
}

fn report(findings: Vec<rdsguard_findings::Finding>, regions: &[&str]) -> Report {
    Report::new(
        "audit",
        "2026-06-02T00:00:00Z".into(),
        vec![ACCOUNT.into()],
        regions.iter().map(|s| s.to_string()).collect(),
        checks(),
        findings,
    )
}

#[test]
fn drift_classifies_new_resolved_unchanged_and_doubtful() {
    let c = checks();
    let enc = &c[0];
    let f = |status, id: &str, region: &str| {
        finding(enc, status, "AwsRdsDbInstance", id, Some(region), json!({}))
    };
    let old = report(
        vec![
            f(Status::Fail, "stays-bad", "us-east-1"),
            f(Status::Fail, "fixed", "us-east-1"),
            f(Status::Fail, "deleted", "us-east-1"),
            f(Status::Fail, "unknown-now", "us-east-1"),
            f(Status::Fail, "other-region", "eu-west-1"),
            f(Status::Fail, "waived", "us-east-1"),
            f(Status::Pass, "regressed", "us-east-1"),
        ],
        &["us-east-1", "eu-west-1"],
    );
    let mut waived = f(Status::Fail, "waived", "us-east-1");
    waived.suppressed = Some(
        rdsguard_findings::Suppression {
            reason: "ok".into(),
            expires: None,
        }
        .into(),
    );
    let new = report(
        vec![
            f(Status::Fail, "stays-bad", "us-east-1"),
            f(Status::Pass, "fixed", "us-east-1"),
            f(Status::NotAssessed, "unknown-now", "us-east-1"),
            waived,
            f(Status::Fail, "regressed", "us-east-1"),
            f(Status::Fail, "brand-new", "us-east-1"),
        ],
        &["us-east-1"],
    );
    let d = diff(&old, &new).unwrap();
    let change = |id: &str| {
        d.entries
            .iter()
            .find(|e| e.resource_id == id)
            .map(|e| e.change)
    };
    assert_eq!(change("stays-bad"), Some(Change::Unchanged));
    assert_eq!(change("fixed"), Some(Change::Resolved));
    assert_eq!(
        change("deleted"),
        Some(Change::Resolved),
        "gone from a covered region"
    );
    assert_eq!(
        change("unknown-now"),
        Some(Change::NotAssessed),
        "never resolved by a gap"
    );
    assert_eq!(
        change("other-region"),
        Some(Change::OutOfScope),
        "region not collected again"
    );
    assert_eq!(change("waived"), Some(Change::Suppressed));
    assert_eq!(change("regressed"), Some(Change::New));
    assert_eq!(change("brand-new"), Some(Change::New));
    assert_eq!(d.summary.new, 2);
    assert_eq!(d.entries[0].change, Change::New, "new first");
    assert!(d.new_failures_at(Severity::High));
    assert!(!d.new_failures_at(Severity::Critical));
    let text = d.to_text(false, false);
    insta::assert_snapshot!("drift_text", text);
    let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(json["summary"]["new"], 2);
}

#[test]
fn drift_of_a_report_with_itself_is_all_unchanged() {
    let r = fixture();
    let d = diff(&r, &r).unwrap();
    assert_eq!(d.summary.new, 0);
    assert_eq!(d.summary.unchanged, r.summary.fail);
    assert!(!d.new_failures_at(Severity::Informational));
}

#[test]
fn drift_refuses_different_kinds() {
    let a = fixture();
    let mut b = fixture();
    b.kind = "trail".into();
    assert!(matches!(diff(&a, &b), Err(DiffError::KindMismatch { .. })));
}

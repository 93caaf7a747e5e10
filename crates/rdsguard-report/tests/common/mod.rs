//! Shared test data: a small hand-made report that exercises every status and the awkward
//! inputs (markup in resource ids, formula-like names, global resources, long messages), and
//! the demo account's full audit report.
#![allow(dead_code)]

use std::collections::BTreeMap;

use rdsguard_findings::{
    CheckMetadata, Compliance, Finding, Report, ResourceRef, Severity, Status, Suppression,
};
use serde_json::{Value, json};

pub const ACCOUNT: &str = "111122223333";
pub const SCRIPT_ID: &str = "<script>alert('x')</script>";
pub const FORMULA_ID: &str = "=HYPERLINK(\"http://x\")";

pub fn meta(id: &str, sev: Severity, rtype: &str, cis: &[&str], fsbp: &[&str]) -> CheckMetadata {
    CheckMetadata {
        id: id.into(),
        title: format!("Title of {id}"),
        severity: sev,
        resource_type: rtype.into(),
        description: format!("Checks {id}."),
        rationale: format!("Because {id} matters."),
        remediation: format!("Fix {id} with care."),
        compliance: Compliance {
            cis: cis.iter().map(|s| s.to_string()).collect(),
            fsbp: fsbp.iter().map(|s| s.to_string()).collect(),
            mitre_attack: vec![],
        },
    }
}

pub fn finding(
    check: &CheckMetadata,
    status: Status,
    rtype: &str,
    id: &str,
    region: Option<&str>,
    evidence: Value,
) -> Finding {
    let arn = match (rtype, region) {
        ("AwsRdsDbInstance", Some(r)) => Some(format!("arn:aws:rds:{r}:{ACCOUNT}:db:{id}")),
        ("AwsRdsDbSnapshot", Some(r)) => Some(format!("arn:aws:rds:{r}:{ACCOUNT}:snapshot:{id}")),
        _ => None,
    };
    let evidence: BTreeMap<String, Value> = match evidence {
        Value::Object(m) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    Finding {
        check_id: check.id.clone().into(),
        title: check.title.clone().into(),
        severity: check.severity,
        status,
        resource: ResourceRef {
            resource_type: rtype.to_string().into(),
            id: id.into(),
            arn,
            account_id: ACCOUNT.into(),
            region: region.map(|r| r.to_string().into()),
        }
        .into(),
        message: format!("{id} is {status}").into(),
        evidence: evidence.into(),
        suppressed: None,
    }
}

/// Checks of the fixture: encryption (CIS in two versions + FSBP), public snapshot (FSBP),
/// tagging (FSBP), an account-level check (CIS, global).
pub fn checks() -> Vec<CheckMetadata> {
    vec![
        meta(
            "rds_instance_storage_encrypted",
            Severity::High,
            "AwsRdsDbInstance",
            &["v1.4.0/2.3.1", "v5.0.0/2.2.1"],
            &["RDS.3"],
        ),
        meta(
            "rds_snapshot_public",
            Severity::Critical,
            "AwsRdsDbSnapshot",
            &[],
            &["RDS.1"],
        ),
        meta(
            "rds_instance_tagged",
            Severity::Low,
            "AwsRdsDbInstance",
            &[],
            &["RDS.30"],
        ),
        meta(
            "iam_support_role",
            Severity::Medium,
            "AwsAccount",
            &["v5.0.0/1.17"],
            &[],
        ),
    ]
}

pub fn fixture() -> Report {
    let c = checks();
    let (enc, snap, tag, iam) = (&c[0], &c[1], &c[2], &c[3]);
    let ue1 = Some("us-east-1");
    let mut findings = vec![
        finding(
            enc,
            Status::Pass,
            "AwsRdsDbInstance",
            "good-db",
            ue1,
            json!({"storage_encrypted": true, "kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/k1", "publicly_accessible": false}),
        ),
        finding(
            enc,
            Status::Fail,
            "AwsRdsDbInstance",
            "bad-db",
            ue1,
            json!({"storage_encrypted": false, "kms_key_id": null, "publicly_accessible": true, "lowest_accepted_tls": "1.0"}),
        ),
        finding(
            enc,
            Status::NotAssessed,
            "AwsRdsDbInstance",
            "odd-db",
            Some("eu-west-1"),
            json!({}),
        ),
        finding(
            enc,
            Status::Fail,
            "AwsRdsDbInstance",
            "legacy-db",
            ue1,
            json!({"storage_encrypted": false}),
        ),
        finding(
            snap,
            Status::Fail,
            "AwsRdsDbSnapshot",
            SCRIPT_ID,
            ue1,
            json!({"restore": "all", "note": "<b>bold</b>"}),
        ),
        finding(
            tag,
            Status::Pass,
            "AwsRdsDbInstance",
            "good-db",
            ue1,
            json!({"tag_keys": ["owner"]}),
        ),
        finding(
            tag,
            Status::NotApplicable,
            "AwsRdsDbInstance",
            "replica-db",
            ue1,
            json!({}),
        ),
        finding(
            tag,
            Status::Fail,
            "AwsRdsDbInstance",
            FORMULA_ID,
            ue1,
            json!({"tag_keys": []}),
        ),
        finding(
            iam,
            Status::Fail,
            "AwsAccount",
            "account",
            None,
            json!({"support_roles": 0}),
        ),
    ];
    findings[3].suppressed = Some(
        Suppression {
            reason: "decommissioned in Q3 | see TICKET-1".into(),
            expires: Some("2099-01-01".into()),
        }
        .into(),
    );
    findings[4].message =
        "snapshot <script> is public | restorable by *anyone*\nsecond line".into();
    findings[8].message = "x".repeat(2000).into();
    Report::new(
        "audit",
        "2026-06-01T00:00:00Z".into(),
        vec![ACCOUNT.into()],
        vec!["eu-west-1".into(), "us-east-1".into()],
        c,
        findings,
    )
}

/// The bundled demo account audited with its configuration at a fixed time.
pub fn demo_report() -> Report {
    let snapshot = rdsguard_demo::demo_snapshot();
    let config = rdsguard_checks::Config::from_toml_str(
        rdsguard_demo::demo_config_toml(),
        std::path::Path::new("demo-rdsguard.toml"),
    )
    .expect("demo config");
    let defs = rdsguard_checks::check_defs();
    let now = time::macros::datetime!(2026-06-01 00:00 UTC);
    let findings = rdsguard_checks::evaluate_with(&snapshot, &config, now, &defs);
    let regions: std::collections::BTreeSet<String> = snapshot
        .accounts
        .iter()
        .flat_map(|a| a.regions.iter().map(|r| r.region.clone()))
        .collect();
    Report::new(
        "audit",
        snapshot.collected_at.clone(),
        snapshot
            .accounts
            .iter()
            .map(|a| a.account_id.clone())
            .collect(),
        regions.into_iter().collect(),
        defs.iter().map(|d| d.metadata()).collect(),
        findings,
    )
}

/// A validator for a JSON schema file under tests/schemas (formats checked too).
pub fn validator(schema_file: &str) -> jsonschema::Validator {
    let path = manifest_dir().join("tests/schemas").join(schema_file);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// Every schema error of `instance`, with where it is.
pub fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Validate `instance` against a JSON schema file under tests/schemas; every error message.
pub fn schema_errors(schema_file: &str, instance: &Value) -> Vec<String> {
    errors(&validator(schema_file), instance)
}

/// This crate's directory, as cargo gives it when running the tests: a test binary kept in a
/// target directory shared by several checkouts (CI's clean clone and the working tree) must
/// read the files of the checkout it runs for, not of the one it was built in.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

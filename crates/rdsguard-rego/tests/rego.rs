//! Custom checks in Rego: the shipped examples on the demo account (cross-checked against the
//! model directly), gap handling, configuration, and errors located by file and line.

use std::path::{Path, PathBuf};

use rdsguard_checks::Config;
use rdsguard_findings::{Finding, Status};
use rdsguard_model::{Gap, GapKind, Snapshot, ops};
use rdsguard_rego::{RegoError, RuleSet};

fn examples() -> PathBuf {
    manifest_dir().join("../../examples/rego")
}

fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-06-01 00:00 UTC)
}

fn run(rules: &mut RuleSet, snapshot: &Snapshot) -> Vec<Finding> {
    rules
        .evaluate(snapshot, &Config::default(), now())
        .expect("evaluates")
}

fn source(name: &str, text: &str) -> Vec<(PathBuf, String)> {
    vec![(PathBuf::from(name), text.to_string())]
}

const VALID: &str = r#"package t.ok
import rego.v1
metadata := {
	"id": "custom_ok", "title": "T", "severity": "low", "resource_type": "AwsRdsDbInstance",
	"description": "d", "remediation": "r", "depends_on": ["rds:DescribeDBInstances"],
}
results contains r if {
	some a in input.accounts
	some reg in a.regions
	some db in reg.rds.db_instances
	r := {"status": "PASS", "resource": {"id": db.db_instance_identifier, "account_id": a.account_id, "region": reg.region}, "message": "ok"}
}
"#;

#[test]
fn owner_tag_example_matches_the_model() {
    let snapshot = rdsguard_demo::demo_snapshot();
    let mut rules = RuleSet::load(&[examples()]).unwrap();
    let ids: Vec<String> = rules.metadata().into_iter().map(|m| m.id).collect();
    assert!(
        ids.contains(&"custom_db_instance_owner_tag".to_string()),
        "{ids:?}"
    );
    let findings = run(&mut rules, &snapshot);
    let owner: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check_id == "custom_db_instance_owner_tag")
        .collect();
    let mut expected_fail = Vec::new();
    let mut total = 0;
    for a in &snapshot.accounts {
        for r in &a.regions {
            for db in &r.rds.db_instances {
                total += 1;
                let has = db
                    .tags
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("owner") && !v.trim().is_empty());
                if !has {
                    expected_fail.push(db.db_instance_identifier.clone());
                }
            }
        }
    }
    assert_eq!(owner.len(), total, "one result per instance");
    let mut failed: Vec<String> = owner
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.resource.id.clone())
        .collect();
    failed.sort();
    expected_fail.sort();
    assert_eq!(failed, expected_fail);
    assert!(
        !expected_fail.is_empty() && expected_fail.len() < total,
        "the demo has both cases"
    );
    let f = owner.iter().find(|f| f.status == Status::Fail).unwrap();
    assert!(
        f.resource
            .arn
            .as_deref()
            .unwrap()
            .starts_with("arn:aws:rds:")
    );
    assert_eq!(f.severity, rdsguard_findings::Severity::Medium);
    assert!(f.evidence.contains_key("tag_keys"));
}

#[test]
fn postgres_version_example_matches_the_model() {
    let snapshot = rdsguard_demo::demo_snapshot();
    let mut rules = RuleSet::load(&[examples().join("postgres_min_version.rego")]).unwrap();
    let findings = run(&mut rules, &snapshot);
    let mut checked = 0;
    for a in &snapshot.accounts {
        for r in &a.regions {
            for db in r
                .rds
                .db_instances
                .iter()
                .filter(|d| d.db_cluster_identifier.is_none())
            {
                let f = findings
                    .iter()
                    .find(|f| {
                        f.resource.id == db.db_instance_identifier
                            && f.resource.region.as_deref() == Some(r.region.as_str())
                    })
                    .unwrap_or_else(|| panic!("no result for {}", db.db_instance_identifier));
                let expected = if db.engine != "postgres" {
                    Status::NotApplicable
                } else if db
                    .engine_version
                    .split('.')
                    .next()
                    .unwrap()
                    .parse::<u32>()
                    .unwrap()
                    < 14
                {
                    Status::Fail
                } else {
                    Status::Pass
                };
                assert_eq!(
                    f.status, expected,
                    "{} {} {}",
                    db.db_instance_identifier, db.engine, db.engine_version
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
    assert!(
        findings.iter().any(|f| f.status == Status::Fail),
        "the demo has an old PostgreSQL"
    );
}

#[test]
fn a_whole_region_gap_gives_not_assessed_never_pass() {
    let mut snapshot = rdsguard_demo::demo_snapshot();
    let region = snapshot.accounts[0].regions[0].region.clone();
    snapshot.accounts[0].regions[0].gaps.push(Gap::new(
        ops::RDS_DESCRIBE_DB_INSTANCES,
        Some(&region),
        GapKind::AccessDenied,
        "denied",
    ));
    let mut rules = RuleSet::from_sources(source("ok.rego", VALID)).unwrap();
    let findings = run(&mut rules, &snapshot);
    let in_region: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.resource.region.as_deref() == Some(region.as_str()))
        .collect();
    assert_eq!(in_region.len(), 1, "one NOT_ASSESSED for the region");
    assert_eq!(in_region[0].status, Status::NotAssessed);
    assert!(
        in_region[0]
            .message
            .contains("rds:DescribeDBInstances access denied"),
        "{}",
        in_region[0].message
    );
    // The other regions are unaffected.
    assert!(findings.iter().any(|f| f.status == Status::Pass));
}

#[test]
fn disabled_checks_and_suppressions_apply() {
    let snapshot = rdsguard_demo::demo_snapshot();
    let mut rules = RuleSet::from_sources(source("ok.rego", VALID)).unwrap();
    let config = Config::from_toml_str(
        "[[suppressions]]\ncheck = \"custom_ok\"\nresource = \"*\"\nreason = \"accepted\"\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let findings = rules.evaluate(&snapshot, &config, now()).unwrap();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| {
        f.suppressed
            .as_ref()
            .is_some_and(|s| s.reason == "accepted")
    }));
    let config =
        Config::from_toml_str("disabled_checks = [\"custom_ok\"]\n", Path::new("t.toml")).unwrap();
    assert!(
        rules
            .evaluate(&snapshot, &config, now())
            .unwrap()
            .is_empty()
    );
}

fn load_err(text: &str) -> String {
    RuleSet::from_sources(source("policies/bad.rego", text))
        .unwrap_err()
        .to_string()
}

#[test]
fn syntax_errors_name_file_and_line() {
    let err = load_err(
        "package t.bad\nimport rego.v1\n\nmetadata := {\n  \"id\": \"x\",\n  oops oops\n}\n",
    );
    assert!(err.starts_with("policies/bad.rego:"), "{err}");
    let line: usize = err["policies/bad.rego:".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap_or(0);
    assert!((5..=7).contains(&line), "line of the error: {err}");
}

#[test]
fn metadata_errors_point_at_the_metadata_rule() {
    let text = VALID.replace("\"severity\": \"low\", ", "");
    let err = load_err(&text);
    assert_eq!(err, "policies/bad.rego:3: metadata: `severity` is required");
    let err = load_err(&VALID.replace("\"low\"", "\"urgent\""));
    assert!(err.contains("unknown severity `urgent`"), "{err}");
    let err = load_err(&VALID.replace("rds:DescribeDBInstances", "rds:DescribeDatabases"));
    assert!(
        err.contains("rds:DescribeDatabases") && err.contains(":3:"),
        "{err}"
    );
    let err = load_err(&VALID.replace("\"custom_ok\"", "\"Custom OK\""));
    assert!(err.contains("lowercase"), "{err}");
    let err = load_err(&VALID.replace("\"title\": \"T\"", "\"titel\": \"T\""));
    assert!(err.contains("unknown field `titel`"), "{err}");
}

#[test]
fn malformed_results_point_at_the_results_rule() {
    let text = VALID.replace("\"status\": \"PASS\", ", "");
    let mut rules = RuleSet::from_sources(source("policies/bad.rego", &text)).unwrap();
    let err = rules
        .evaluate(&rdsguard_demo::demo_snapshot(), &Config::default(), now())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("policies/bad.rego:7: result 1"), "{err}");
    assert!(err.contains("`status` must be"), "{err}");
}

#[test]
fn evaluation_errors_name_the_file() {
    // A conflict: a complete rule with two different values is an evaluation error in Rego.
    let text = VALID.replace(
        "results contains r if {",
        "x := 1 if { true }\nx := 2 if { true }\nresults contains r if {\n\tx == 1",
    );
    let mut rules = RuleSet::from_sources(source("policies/bad.rego", &text)).unwrap();
    let err = rules
        .evaluate(&rdsguard_demo::demo_snapshot(), &Config::default(), now())
        .unwrap_err();
    assert!(matches!(err, RegoError::Policy { .. }));
    assert!(err.to_string().starts_with("policies/bad.rego:"), "{err}");
}

#[test]
fn ids_must_be_unique() {
    let mut two = source("a.rego", VALID);
    two.push((
        PathBuf::from("b.rego"),
        VALID.replace("package t.ok", "package t.other"),
    ));
    let err = RuleSet::from_sources(two).unwrap_err().to_string();
    assert!(
        err.contains("b.rego") && err.contains("also declared in a.rego"),
        "{err}"
    );
    let rules = RuleSet::from_sources(source("a.rego", VALID)).unwrap();
    assert!(rules.ensure_distinct_from(["rds_instance_tagged"]).is_ok());
    let builtin = rules
        .ensure_distinct_from(["custom_ok"])
        .unwrap_err()
        .to_string();
    assert!(builtin.contains("built-in"), "{builtin}");
}

#[test]
fn half_declared_checks_are_refused_and_libraries_allowed() {
    let err = load_err("package t.x\nimport rego.v1\nmetadata := {\"id\": \"a\"}\n");
    assert!(err.contains("`metadata` without `results`"), "{err}");
    let lib = "package t.helpers\nimport rego.v1\nis_prod(tags) if tags.env == \"prod\"\n";
    let rules = RuleSet::from_sources(source("helpers.rego", lib)).unwrap();
    assert!(rules.metadata().is_empty());
}

#[test]
fn directories_load_recursively_and_skip_opa_tests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/ok.rego"), VALID).unwrap();
    std::fs::write(dir.path().join("ok_test.rego"), "this is not valid rego").unwrap();
    std::fs::write(dir.path().join("README.md"), "# not a policy").unwrap();
    let rules = RuleSet::load(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(rules.metadata().len(), 1);
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        RuleSet::load(&[empty.path().to_path_buf()]),
        Err(RegoError::NoPolicies(_))
    ));
    assert!(matches!(
        RuleSet::load(&[dir.path().join("missing")]),
        Err(RegoError::Io { .. })
    ));
}

/// This crate's directory, as cargo gives it when running the tests: a test binary kept in a
/// target directory shared by several checkouts (CI's clean clone and the working tree) must
/// read the files of the checkout it runs for, not of the one it was built in.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

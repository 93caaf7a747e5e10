//! The report features end to end through the binary, on the bundled demo account (no AWS):
//! several outputs in one run, formats inferred from extensions, compliance views, custom Rego
//! checks, drift and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rdsguard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdsguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn examples() -> PathBuf {
    manifest_dir().join("../../examples/rego")
}

#[test]
fn several_outputs_in_one_run_with_formats_from_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let out = rdsguard(
        &[
            "audit",
            "--demo",
            "-o",
            "r.html",
            "-o",
            "f.sarif",
            "-o",
            "asff:findings.json",
            "-o",
            "e.ocsf.json",
            "-o",
            "junit.xml",
            "-o",
            "pr.md",
            "-o",
            "r.csv",
            "-o",
            "r.jsonl",
            "-o",
            "report.json",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "with -o nothing else goes to standard output"
    );
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    assert!(read("r.html").starts_with("<!DOCTYPE html>"));
    let sarif: serde_json::Value = serde_json::from_str(&read("f.sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let asff: serde_json::Value = serde_json::from_str(&read("findings.json")).unwrap();
    assert_eq!(asff[0]["SchemaVersion"], "2018-10-08");
    let ocsf: serde_json::Value = serde_json::from_str(&read("e.ocsf.json")).unwrap();
    assert_eq!(ocsf[0]["class_uid"], 2003);
    assert!(read("junit.xml").starts_with("<?xml"));
    assert!(read("pr.md").starts_with("## rdsguard audit"));
    assert!(read("r.csv").starts_with("status,severity,check_id"));
    let report: serde_json::Value = serde_json::from_str(&read("report.json")).unwrap();
    assert_eq!(
        read("r.jsonl").lines().count(),
        report["findings"].as_array().unwrap().len()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("r.html"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "reports are private files");
    }
}

#[test]
fn dash_sends_a_format_to_standard_output_next_to_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = rdsguard(
        &["audit", "--demo", "-o", "r.md", "-o", "sarif:-"],
        dir.path(),
    );
    assert!(out.status.success());
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(dir.path().join("r.md").exists());
}

#[test]
fn unknown_extension_is_a_usage_error_before_collection() {
    let dir = tempfile::tempdir().unwrap();
    let out = rdsguard(&["audit", "--demo", "-o", "report"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FORMAT:report"));
    // --format serves such files.
    let out = rdsguard(
        &["audit", "--demo", "--format", "csv", "-o", "report"],
        dir.path(),
    );
    assert!(out.status.success());
    assert!(
        std::fs::read_to_string(dir.path().join("report"))
            .unwrap()
            .starts_with("status,")
    );
}

#[test]
fn compliance_view_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = rdsguard(
        &[
            "audit",
            "--demo",
            "--compliance",
            "fsbp",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["framework"], "fsbp");
    let rds3 = v["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == "RDS.3")
        .unwrap();
    assert!(
        rds3["checks"]
            .as_array()
            .unwrap()
            .contains(&"rds_instance_storage_encrypted".into())
    );
    let out = rdsguard(&["audit", "--demo", "--compliance", "pci"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn custom_rego_checks_join_the_report_and_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let rules = examples();
    let out = rdsguard(
        &[
            "audit",
            "--demo",
            "--rules",
            rules.to_str().unwrap(),
            "--check",
            "custom_*",
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the demo has PostgreSQL 13: a HIGH custom failure"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            "custom_db_instance_owner_tag",
            "custom_postgres_min_major_version"
        ]
    );

    std::fs::write(
        dir.path().join("bad.rego"),
        "package t\nimport rego.v1\nmetadata := {\n \"id\": \"x\",\n oops\n}\n",
    )
    .unwrap();
    let out = rdsguard(&["audit", "--demo", "--rules", "bad.rego"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.rego:6:"), "{err}");
}

#[test]
fn diff_exits_1_on_new_failures_at_or_above_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let rules = examples();
    assert!(
        rdsguard(&["audit", "--demo", "-o", "old.json"], dir.path())
            .status
            .success()
    );
    let out = rdsguard(
        &[
            "audit",
            "--demo",
            "--rules",
            rules.to_str().unwrap(),
            "-o",
            "new.json",
        ],
        dir.path(),
    );
    assert!(out.status.success());
    let out = rdsguard(
        &["diff", "old.json", "new.json", "--fail-on", "high"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("legacy-reports"));
    let out = rdsguard(
        &["diff", "old.json", "new.json", "--fail-on", "critical"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "no new critical failure");
    let out = rdsguard(
        &[
            "diff",
            "new.json",
            "old.json",
            "--fail-on",
            "low",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "custom failures gone: out of scope, not new"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["new"], 0);
    assert!(
        v["summary"]["out_of_scope"].as_u64().unwrap() > 0,
        "checks not run again are not 'resolved'"
    );
    std::fs::write(dir.path().join("junk.json"), "{\"hello\": 1}").unwrap();
    let out = rdsguard(&["diff", "junk.json", "new.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

/// This crate's directory, as cargo gives it when running the tests: a test binary kept in a
/// target directory shared by several checkouts (CI's clean clone and the working tree) must
/// read the files of the checkout it runs for, not of the one it was built in.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

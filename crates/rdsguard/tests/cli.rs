//! The commands end to end through the binary, without AWS: the demo account, a snapshot file,
//! exit codes, file permissions, and the exposure, IAM and trail commands.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn rdsguard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdsguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("RDSGUARD_ENDPOINT_URL")
        .output()
        .expect("runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn demo_audit_exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let plain = rdsguard(&["audit", "--demo"], dir.path());
    assert_eq!(plain.status.code(), Some(0));
    let text = String::from_utf8_lossy(&plain.stdout);
    assert!(text.contains("legacy-reports"), "{text}");
    assert!(text.contains("Not assessed"), "{text}");

    let strict = rdsguard(&["audit", "--demo", "--fail-on", "critical"], dir.path());
    assert_eq!(strict.status.code(), Some(1));
    let gaps = rdsguard(&["audit", "--demo", "--fail-on-not-assessed"], dir.path());
    assert_eq!(gaps.status.code(), Some(1));
    let only_low = rdsguard(
        &[
            "audit",
            "--demo",
            "--check",
            "rds_*_tagged",
            "--fail-on",
            "critical",
        ],
        dir.path(),
    );
    assert_eq!(
        only_low.status.code(),
        Some(0),
        "tagging checks are low severity"
    );
    let unknown = rdsguard(&["audit", "--demo", "--check", "no_such_check"], dir.path());
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn suppressed_failures_do_not_trip_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let audit = |config: &str| {
        std::fs::write(dir.path().join("rules.toml"), config).unwrap();
        rdsguard(
            &[
                "audit",
                "--demo",
                "--config",
                "rules.toml",
                "--check",
                "rds_instance_multi_az",
                "--fail-on",
                "low",
            ],
            dir.path(),
        )
    };
    let some = audit(
        "[[suppressions]]\ncheck = \"rds_instance_multi_az\"\nresource = \"au-inventory\"\nreason = \"cache\"\n",
    );
    assert_eq!(
        some.status.code(),
        Some(1),
        "other single-AZ instances fail"
    );
    let text = String::from_utf8_lossy(&some.stdout);
    assert!(text.contains("1 suppressed"), "{text}");
    let all = audit(
        "[[suppressions]]\ncheck = \"rds_instance_multi_az\"\nresource = \"*\"\nreason = \"all of them\"\n",
    );
    let text = String::from_utf8_lossy(&all.stdout);
    assert!(text.contains("0 FAIL"), "{text}");
    assert_eq!(
        all.status.code(),
        Some(0),
        "every failure is suppressed: {text}"
    );
}

#[test]
fn snapshot_file_audit_equals_the_direct_audit_and_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snapshot.json");
    rdsguard_model::io::write_snapshot(&rdsguard_demo::demo_snapshot(), &snap).unwrap();
    let config = dir.path().join("rdsguard.toml");
    std::fs::write(&config, rdsguard_demo::demo_config_toml()).unwrap();

    let direct = rdsguard(&["audit", "--demo", "--format", "json"], dir.path());
    let offline = rdsguard(
        &[
            "audit",
            "--snapshot",
            "snapshot.json",
            "--format",
            "json",
            "-o",
            "report.json",
        ],
        dir.path(),
    );
    assert_eq!(
        offline.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let report_path = dir.path().join("report.json");
    let from_file: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let direct = json(&direct);
    assert_eq!(from_file["findings"], direct["findings"]);
    assert_eq!(from_file["summary"], direct["summary"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&report_path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "reports describe an account's weaknesses");
    }

    // A truncated snapshot is a located error, not a panic and not an empty PASS.
    let text = std::fs::read_to_string(&snap).unwrap();
    std::fs::write(&snap, &text[..text.len() / 3]).unwrap();
    let broken = rdsguard(&["audit", "--snapshot", "snapshot.json"], dir.path());
    assert_eq!(broken.status.code(), Some(2));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(
        err.contains("not a valid rdsguard snapshot") && err.contains("line"),
        "{err}"
    );
}

#[test]
fn exposure_and_iam_commands_answer_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let exposure = json(&rdsguard(
        &[
            "exposure",
            "--demo",
            "--db",
            "legacy-reports",
            "--format",
            "json",
        ],
        dir.path(),
    ));
    let db = &exposure["databases"][0];
    assert_eq!(db["identifier"], "legacy-reports");
    assert_eq!(db["internet_reachable"], true);
    let missing = rdsguard(&["exposure", "--demo", "--db", "nope"], dir.path());
    assert_eq!(missing.status.code(), Some(2));

    let who = rdsguard(
        &[
            "who-can",
            "rds:DeleteDBInstance",
            "--resource",
            "orders-prod",
            "--demo",
        ],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&who.stdout);
    assert!(
        text.contains("user/carol") && text.contains("ALLOWED"),
        "{text}"
    );

    let policy = rdsguard(
        &[
            "iam",
            "policy",
            "--allow",
            "rds:CreateDBInstance",
            "--db",
            "orders-prod",
            "--require-encryption",
            "--demo",
        ],
        dir.path(),
    );
    assert_eq!(
        policy.status.code(),
        Some(0),
        "the generated policy verifies"
    );
    assert!(String::from_utf8_lossy(&policy.stdout).contains("rds:StorageEncrypted"));
}

#[test]
fn trail_flags_a_public_db_instance_in_the_real_elastic_sample() {
    let data = manifest_dir()
        .join("../../../shared/data/cloudtrail/elastic_integrations_pipeline_samples");
    assert!(
        data.is_dir(),
        "the shared CloudTrail data is needed at {}",
        data.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let sample = data.join("test-modify-db-instance-json.json");
    let out = rdsguard(
        &[
            "trail",
            sample.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
        dir.path(),
    );
    let report = json(&out);
    assert_eq!(report["kind"], "trail");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check_id"]
                .as_str()
                .is_some_and(|id| id.contains("public"))),
        "{report:#}"
    );
    assert_eq!(out.status.code(), Some(1));
    let bad = dir.path().join("bad.json.gz");
    std::fs::write(&bad, b"\x1f\x8b\x08 truncated").unwrap();
    let skipped = rdsguard(&["trail", bad.to_str().unwrap()], dir.path());
    assert_eq!(skipped.status.code(), Some(3), "some input skipped");
}

/// This crate's directory, as cargo gives it when running the tests: a test binary kept in a
/// target directory shared by several checkouts (CI's clean clone and the working tree) must
/// read the files of the checkout it runs for, not of the one it was built in.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

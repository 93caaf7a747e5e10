//! `rdsguard fix` through the binary, without AWS: planning on the demo account, the plan
//! file, and the refusals that keep `--apply` safe. Applying is tested against moto in
//! crates/rdsguard-fix/tests/moto_fix.rs.

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

#[test]
fn demo_plan_is_printed_and_written_privately_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = rdsguard(
        &[
            "fix",
            "--demo",
            "--db",
            "legacy-reports",
            "--plan-out",
            "plan.json",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ec2:CreateSecurityGroup"), "{text}");
    assert!(text.contains("impact: new-resource-cutover"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Nothing was changed"));
    let path = dir.path().join("plan.json");
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(plan["schema_version"], 1);
    let steps = plan["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["account_id"] == "123456789012"));
    assert!(
        steps.iter().any(|s| s["operation"] == "ModifyDBInstance"
            && s["parameters"]["DeletionProtection"] == true)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // JSON on standard output is the same plan.
    let out = rdsguard(
        &[
            "fix",
            "--demo",
            "--db",
            "legacy-reports",
            "--format",
            "json",
        ],
        dir.path(),
    );
    let stdout: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stdout, plan);
}

#[test]
fn apply_is_refused_on_a_snapshot_or_the_demo_and_bad_input_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = rdsguard(&["fix", "--demo", "--apply", "--yes"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("live collection"));
    let out = rdsguard(&["fix", "--demo", "--allow-cidr", "0.0.0.0/0"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("whole internet"));
    let out = rdsguard(&["fix", "--resume", "missing.journal"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.journal"));
    std::fs::write(dir.path().join("bad.journal"), "{\"type\":\"step\"}\n").unwrap();
    let out = rdsguard(&["fix", "--resume", "bad.journal"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid rdsguard journal"));

    // A journal is only resumed with the plan it was made for.
    let out = rdsguard(
        &[
            "fix",
            "--demo",
            "--db",
            "legacy-reports",
            "--plan-out",
            "a.json",
        ],
        dir.path(),
    );
    assert!(out.status.success());
    let out = rdsguard(
        &[
            "fix",
            "--demo",
            "--db",
            "catalog-mysql",
            "--plan-out",
            "b.json",
        ],
        dir.path(),
    );
    assert!(out.status.success());
    let plan: rdsguard_fix::Plan =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a.json")).unwrap()).unwrap();
    drop(rdsguard_fix::Journal::create(&dir.path().join("a.journal"), &plan).unwrap());
    let out = rdsguard(
        &["fix", "--resume", "a.journal", "--plan", "b.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("belongs to another plan"), "{stderr}");
}

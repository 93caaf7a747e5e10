//! Organization snapshots through the binary, without AWS: shards of a synthetic organization
//! merged (plain and gzip files), the merged snapshot audited with the unassessable accounts
//! reported, merge conflicts, and the `--org` flag rules.

use std::path::Path;
use std::process::{Command, Output};

use rdsguard_demo::{SyntheticOrgParams, synthetic_org};
use rdsguard_model::io::{read_snapshot, write_snapshot};
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn org() -> rdsguard_model::Snapshot {
    synthetic_org(&SyntheticOrgParams {
        accounts: 30,
        db_instances_per_account: 2,
        regions: 1,
        ous: 3,
        unassessed_every: 10,
        ..Default::default()
    })
}

#[test]
fn shards_merge_back_into_the_organization_and_audit_reports_unassessed_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let whole = org();
    let names = ["shard-0.json", "shard-1.json.gz", "shard-2.json"];
    for (i, name) in names.iter().enumerate() {
        let mut shard = whole.clone();
        shard
            .accounts
            .retain(|a| a.account_id.parse::<u64>().unwrap() % 3 == i as u64);
        assert!(!shard.accounts.is_empty());
        write_snapshot(&shard, &dir.path().join(name)).unwrap();
    }
    let mut args = vec!["merge"];
    args.extend(names);
    args.extend(["-o", "org.json.gz"]);
    let out = rdsguard(&args, dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("30 account(s) from 3 file(s), 2 not assessed"));

    let mut merged = read_snapshot(&dir.path().join("org.json.gz")).unwrap();
    merged
        .accounts
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    let mut expected = whole.clone();
    expected
        .accounts
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    assert_eq!(merged, expected);

    let out = rdsguard(
        &["audit", "--snapshot", "org.json.gz", "--format", "json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().expect("findings");
    let unassessed: Vec<&str> = findings
        .iter()
        .filter(|f| f["check_id"] == "account_collected" && f["status"] == "NOT_ASSESSED")
        .map(|f| f["resource"]["id"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = whole
        .accounts
        .iter()
        .filter(|a| a.regions.is_empty())
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(unassessed.len(), 2);
    for id in &want {
        assert!(unassessed.contains(id), "{id} reported not assessed");
    }
}

#[test]
fn merging_two_different_copies_of_an_account_is_refused_with_both_files_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = org();
    let mut b = a.clone();
    b.accounts.truncate(1);
    b.accounts[0].name = Some("renamed".into());
    write_snapshot(&a, &dir.path().join("a.json")).unwrap();
    write_snapshot(&b, &dir.path().join("b.json")).unwrap();
    let out = rdsguard(&["merge", "a.json", "b.json", "-o", "m.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&a.accounts[0].account_id) && err.contains("a.json") && err.contains("b.json"),
        "{err}"
    );
    assert!(!dir.path().join("m.json").exists());
    // The same copy twice (a retried shard) is fine.
    let out = rdsguard(&["merge", "a.json", "a.json", "-o", "m.json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn org_flags_need_org_and_shards_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let out = rdsguard(&["collect", "--shard", "0/2", "-o", "x.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--org"), "{}", stderr(&out));
    let out = rdsguard(
        &["collect", "--org", "--shard", "2/2", "-o", "x.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("0 <= I < N"), "{}", stderr(&out));
}

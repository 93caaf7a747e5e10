//! Test helpers: build small snapshots and run one check on them at a fixed time.

use rdsguard_findings::{Finding, Status};
use rdsguard_model::{AccountSnapshot, IamData, RegionSnapshot, Snapshot, SnapshotSource};
use time::OffsetDateTime;

use crate::{CheckDef, Config, evaluate_with};

pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-1";

/// 2026-06-01T00:00:00Z: the fixed "now" of check tests.
pub fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-06-01 00:00:00 UTC)
}

/// A one-account snapshot holding the given region (and optionally IAM data).
pub fn snapshot(region: RegionSnapshot, iam: Option<IamData>) -> Snapshot {
    let mut s = Snapshot::new(
        SnapshotSource {
            kind: "test".into(),
            endpoint_url: None,
            regions: vec![region.region.clone()],
        },
        "2026-06-01T00:00:00Z",
    );
    s.accounts.push(AccountSnapshot {
        account_id: ACCOUNT.into(),
        partition: "aws".into(),
        iam,
        regions: vec![region],
        gaps: vec![],
        ..Default::default()
    });
    s
}

/// An empty region named [`REGION`].
pub fn region() -> RegionSnapshot {
    RegionSnapshot::new(REGION)
}

/// Run one check with the given config.
pub fn run_with(def: &CheckDef, snap: &Snapshot, config: &Config) -> Vec<Finding> {
    evaluate_with(snap, config, now(), &[def])
}

/// Run one check with the default config.
pub fn run(def: &CheckDef, snap: &Snapshot) -> Vec<Finding> {
    run_with(def, snap, &Config::default())
}

/// The status of the single finding about resource `id`; panics (test failure) otherwise.
pub fn status_of(findings: &[Finding], id: &str) -> Status {
    let matching: Vec<_> = findings.iter().filter(|f| f.resource.id == id).collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one finding for {id}, got {findings:#?}"
    );
    matching[0].status
}

//! Test helpers: build small snapshots and run one check on them at a fixed time.

use rdsguard_findings::{Finding, Status};
use rdsguard_model::{AccountSnapshot, IamData, RegionSnapshot, Snapshot, SnapshotSource};
use time::OffsetDateTime;

use crate::{CheckDef, Config, analyze, evaluate_with};

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

/// Run one check with the given config, explained, after checking that the analysis
/// without explanations and every way of explaining part of it agree with it (see
/// [`assert_explanations_agree_at`]): every check test is also a test of that.
pub fn run_with(def: &CheckDef, snap: &Snapshot, config: &Config) -> Vec<Finding> {
    let findings = evaluate_with(snap, config, now(), &[def]);
    assert_explanations_agree_at(snap, config, now(), &[def], &findings, 1);
    findings
}

/// The statuses [`analyze`] decides without explaining anything are those of the explained
/// `findings` (from `evaluate_with`, same order), every full result has a message, and
/// [`Analysis::explain`](crate::Analysis::explain) gives the same findings for every
/// `stride`-th result alone, for every other result, and for all of them in reverse order.
pub fn assert_explanations_agree_at(
    snap: &Snapshot,
    config: &Config,
    now: OffsetDateTime,
    defs: &[&CheckDef],
    findings: &[Finding],
    stride: usize,
) {
    let analysis = analyze(snap, config, now, defs);
    let decided: Vec<_> = analysis
        .outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let check = analysis.check_of(o).id;
            (
                check,
                o.status,
                o.severity,
                analysis.resource_of(o),
                analysis.suppression(i).map(|s| &**s),
            )
        })
        .collect();
    let full: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f.check_id.as_str(),
                f.status,
                f.severity,
                Some(f.resource.clone()),
                f.suppressed.as_deref(),
            )
        })
        .collect();
    assert_eq!(decided, full, "analysis without explanations differs");
    for f in findings {
        assert!(!f.message.is_empty(), "a finding without message: {f:#?}");
    }
    let explain = |indices: &[usize]| -> Vec<Finding> {
        match analysis.explain(snap, config, indices) {
            Ok(found) => found,
            Err(e) => panic!("explain {indices:?}: {e}"),
        }
    };
    for i in (0..findings.len()).step_by(stride) {
        assert_eq!(
            explain(&[i]),
            [findings[i].clone()],
            "result {i} explained alone"
        );
    }
    let odd: Vec<usize> = (1..findings.len()).step_by(2).collect();
    let expected: Vec<Finding> = odd.iter().map(|&i| findings[i].clone()).collect();
    assert_eq!(explain(&odd), expected, "every other result explained");
    let reversed: Vec<usize> = (0..findings.len()).rev().collect();
    let expected: Vec<Finding> = findings.iter().rev().cloned().collect();
    assert_eq!(
        explain(&reversed),
        expected,
        "all results explained, reversed"
    );
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

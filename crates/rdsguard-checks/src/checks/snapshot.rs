//! DB snapshot and DB cluster snapshot checks (FSBP RDS.1, RDS.4, and sharing with accounts
//! nobody declared trusted, which no other tool reports).
//!
//! One check covers both snapshot kinds; each finding carries its own resource type
//! (`AwsRdsDbSnapshot` or `AwsRdsDbClusterSnapshot`). Who may restore a snapshot comes from
//! `DescribeDB[Cluster]SnapshotAttributes`; when that call failed for a snapshot the answer is
//! NOT_ASSESSED, never "private".

use std::collections::BTreeSet;

use rdsguard_findings::Severity;
use rdsguard_model::{DbSnapshot, Op, RestoreAttribute, ops};

use super::common::{cluster_snapshot_resource, gap_in, snapshot_resource};
use super::instance::{Judgement, Verdict, not_rds};

use crate::engine::{CheckDef, Emitter, RegionCtx, Runner, SharedResource};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[
    &RDS_SNAPSHOT_PUBLIC,
    &RDS_SNAPSHOT_SHARED_WITH_UNTRUSTED_ACCOUNT,
    &RDS_SNAPSHOT_ENCRYPTED,
];

/// Instance snapshots or cluster snapshots.
pub(crate) struct SnapshotKind {
    /// "DB snapshot" or "DB cluster snapshot", for messages.
    pub label: &'static str,
    /// The call that reads the `restore` attribute of this kind.
    pub attributes_op: Op,
    pub resource: fn(&RegionCtx<'_>, &DbSnapshot) -> crate::engine::SharedResource,
}

pub(crate) const INSTANCE_SNAPSHOTS: SnapshotKind = SnapshotKind {
    label: "DB snapshot",
    attributes_op: ops::RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
    resource: snapshot_resource,
};

pub(crate) const CLUSTER_SNAPSHOTS: SnapshotKind = SnapshotKind {
    label: "DB cluster snapshot",
    attributes_op: ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
    resource: cluster_snapshot_resource,
};

/// Both kinds with their snapshots.
pub(crate) fn snapshot_kinds<'a>(
    ctx: &RegionCtx<'a>,
) -> [(&'static SnapshotKind, &'a [DbSnapshot]); 2] {
    [
        (&INSTANCE_SNAPSHOTS, &ctx.region.rds.db_snapshots),
        (&CLUSTER_SNAPSHOTS, &ctx.region.rds.db_cluster_snapshots),
    ]
}

/// `DescribeDB[Cluster]Snapshots` with IncludeShared/IncludePublic also lists other accounts'
/// snapshots; their settings are their owner's to fix.
pub(crate) fn foreign_snapshot(
    ctx: &RegionCtx<'_>,
    kind: &SnapshotKind,
    s: &DbSnapshot,
) -> Option<Verdict> {
    let owner = super::common::arn_part(&s.arn, 4).filter(|a| !a.is_empty());
    let other_owner = owner.filter(|a| *a != ctx.account.account_id);
    if matches!(s.snapshot_type.as_str(), "shared" | "public") || other_owner.is_some() {
        return Some(Verdict::NotApplicable(msg!(
            "{} {} belongs to account {} and is shared with this one",
            kind.label,
            s.identifier,
            owner.unwrap_or("unknown")
        )));
    }
    not_rds(kind.label, &s.identifier, &s.engine)
}

/// A per-snapshot check: its verdict on one snapshot of the context's region
/// ([`Runner::Snapshots`]).
#[derive(Clone, Copy)]
pub struct SnapshotJudge(SnapshotJudgeFn);

#[derive(Clone, Copy)]
enum SnapshotJudgeFn {
    /// Snapshots of the kinds (0: DB snapshots, 1: DB cluster snapshots); those of other
    /// accounts or services NOT_APPLICABLE without judging ([`foreign_snapshot`]).
    Own(
        [bool; 2],
        fn(&RegionCtx<'_>, &SnapshotKind, &DbSnapshot) -> Judgement,
    ),
    /// Every snapshot of the kinds (0: DB snapshots, 1: DB cluster snapshots).
    Any(
        [bool; 2],
        fn(&RegionCtx<'_>, &SnapshotKind, &DbSnapshot) -> Verdict,
    ),
}

impl SnapshotJudge {
    /// A judge of the account's own RDS snapshots of both kinds.
    pub(crate) const fn own(
        judge: fn(&RegionCtx<'_>, &SnapshotKind, &DbSnapshot) -> Judgement,
    ) -> Self {
        SnapshotJudge(SnapshotJudgeFn::Own([true, true], judge))
    }

    /// A judge of the account's own RDS snapshots of one kind (`cluster`: DB cluster
    /// snapshots).
    pub(crate) const fn own_of_kind(
        cluster: bool,
        judge: fn(&RegionCtx<'_>, &SnapshotKind, &DbSnapshot) -> Judgement,
    ) -> Self {
        SnapshotJudge(SnapshotJudgeFn::Own([!cluster, cluster], judge))
    }

    /// A judge of every snapshot of both kinds.
    pub(crate) const fn both(
        judge: fn(&RegionCtx<'_>, &SnapshotKind, &DbSnapshot) -> Verdict,
    ) -> Self {
        SnapshotJudge(SnapshotJudgeFn::Any([true, true], judge))
    }

    fn judges_kind(&self, kind: usize) -> bool {
        match self.0 {
            SnapshotJudgeFn::Own(kinds, _) | SnapshotJudgeFn::Any(kinds, _) => {
                kinds.get(kind) == Some(&true)
            }
        }
    }
}

/// Run each judge on the snapshots it judges (DB snapshots, then DB cluster snapshots) and
/// emit its verdict into the judge's emitter, a few snapshots at a time as
/// [`each_instance_of`](super::instance::each_instance_of) does instances.
pub(crate) fn each_snapshot_of(
    ctx: &RegionCtx<'_>,
    judges: &mut [(SnapshotJudge, &mut Emitter<'_>)],
) {
    use super::instance::JUDGED_TOGETHER;
    let own = own_snapshots(ctx);
    let mut resources: Vec<Option<SharedResource>> = Vec::with_capacity(JUDGED_TOGETHER);
    for (k, ((kind, snapshots), own)) in snapshot_kinds(ctx).into_iter().zip(&own.0).enumerate() {
        if !judges.iter().any(|(j, _)| j.judges_kind(k)) {
            continue;
        }
        for (c, chunk) in snapshots.chunks(JUDGED_TOGETHER).enumerate() {
            resources.clear();
            resources.resize(chunk.len(), None);
            for (judge, em) in judges.iter_mut() {
                if !judge.judges_kind(k) {
                    continue;
                }
                for ((j, s), resource) in chunk.iter().enumerate().zip(resources.iter_mut()) {
                    if em.skip_unwanted() {
                        continue;
                    }
                    let verdict = match judge.0 {
                        SnapshotJudgeFn::Any(_, judge) => judge(ctx, kind, s),
                        SnapshotJudgeFn::Own(_, judge) => {
                            let foreign = if own.get(c * JUDGED_TOGETHER + j) == Some(&true) {
                                None
                            } else {
                                foreign_snapshot(ctx, kind, s)
                            };
                            match foreign {
                                Some(v) => v,
                                None => judge(ctx, kind, s).unwrap_or_else(|early| early),
                            }
                        }
                    };
                    verdict.emit(em, *resource.get_or_insert_with(|| (kind.resource)(ctx, s)));
                }
            }
        }
    }
}

/// For each snapshot of both kinds (by position), whether [`foreign_snapshot`] lets the
/// checks judge it (the account's own, of an RDS engine): decided once for every check that
/// asks it of every snapshot.
struct OwnSnapshots([Vec<bool>; 2]);

fn own_snapshots(ctx: &RegionCtx<'_>) -> std::rc::Rc<OwnSnapshots> {
    ctx.memo.get_or_init_plain(|| {
        OwnSnapshots(snapshot_kinds(ctx).map(|(kind, snapshots)| {
            snapshots
                .iter()
                .map(|s| foreign_snapshot(ctx, kind, s).is_none())
                .collect()
        }))
    })
}

fn snap(kind: &SnapshotKind, s: &DbSnapshot) -> String {
    format!("{} {}", kind.label, s.identifier)
}

/// Who may restore the snapshot. Automated snapshots cannot be shared (NOT_APPLICABLE); a
/// manual snapshot whose attributes were not collected is NOT_ASSESSED.
fn restore_attribute<'a>(
    ctx: &RegionCtx<'_>,
    kind: &SnapshotKind,
    s: &'a DbSnapshot,
) -> Result<&'a RestoreAttribute, Verdict> {
    if let Some(r) = &s.restore {
        return Ok(r);
    }
    if s.is_automated() {
        return Err(Verdict::NotApplicable(msg!(
            "{} is automated; automated snapshots cannot be shared (only copies of them)",
            snap(kind, s)
        )));
    }
    let why = gap_in(ctx, kind.attributes_op, Some(&s.identifier))
        .or_else(|| gap_in(ctx, kind.attributes_op, Some(&s.arn)))
        .map(|g| g.describe())
        .unwrap_or_else(|| format!("its {} were not collected", kind.attributes_op));
    Err(Verdict::NotAssessed(msg!(
        "cannot tell who may restore {}: {why}",
        snap(kind, s)
    )))
}

const SNAPSHOT_OPS: &[Op] = &[
    ops::RDS_DESCRIBE_DB_SNAPSHOTS,
    ops::RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
    ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
    ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
];

// ---------------------------------------------------------------------------------------------

pub static RDS_SNAPSHOT_PUBLIC: CheckDef = CheckDef {
    id: "rds_snapshot_public",
    title: "RDS snapshot is not public",
    severity: Severity::Critical,
    resource_type: "AwsRdsDbSnapshot",
    description: "Checks the `restore` attribute of every manual DB snapshot and DB cluster \
                  snapshot: the value `all` means any AWS account can copy and restore it. \
                  Automated snapshots, which cannot be shared, are not applicable; a snapshot \
                  whose attributes could not be read is not assessed.",
    rationale: "A public snapshot hands the whole database to anyone with an AWS account. \
                Unencrypted snapshots are the only ones that can be made public, so the data \
                is readable as is.",
    remediation: "`aws rds modify-db-snapshot-attribute --db-snapshot-identifier <id> \
                  --attribute-name restore --values-to-remove all` (cluster snapshots: `aws rds \
                  modify-db-cluster-snapshot-attribute --db-cluster-snapshot-identifier <id> \
                  ...`), or `rdsguard fix --check rds_snapshot_public`. Review CloudTrail for \
                  CopyDBSnapshot/RestoreDBInstanceFromDBSnapshot by other accounts while it was \
                  public.",
    cis: &[],
    fsbp: &["RDS.1"],
    depends_on: SNAPSHOT_OPS,
    run: Runner::Snapshots(SnapshotJudge::own(public)),
};

fn public(ctx: &RegionCtx<'_>, kind: &SnapshotKind, s: &DbSnapshot) -> Judgement {
    let restore = restore_attribute(ctx, kind, s)?;
    Ok(Verdict::pass_if(
        !restore.public,
        || format!("{} is not public", snap(kind, s)),
        || {
            format!(
                "{} is public: any AWS account can restore it",
                snap(kind, s)
            )
        },
        evidence! {
            "public" => restore.public,
            "shared_with" => restore.shared_with,
            "encrypted" => s.encrypted,
            "snapshot_type" => s.snapshot_type,
        },
    ))
}

// ---------------------------------------------------------------------------------------------

pub static RDS_SNAPSHOT_SHARED_WITH_UNTRUSTED_ACCOUNT: CheckDef = CheckDef {
    id: "rds_snapshot_shared_with_untrusted_account",
    title: "RDS snapshot is shared only with trusted accounts",
    severity: Severity::High,
    resource_type: "AwsRdsDbSnapshot",
    description: "Lists the accounts in the `restore` attribute of every manual DB snapshot \
                  and DB cluster snapshot and fails when any is neither in `trusted_accounts` \
                  nor one of the audited accounts. Public sharing is reported by \
                  rds_snapshot_public. Automated snapshots are not applicable; a snapshot whose \
                  attributes could not be read is not assessed.",
    rationale: "A snapshot shared with another account lets that account copy the whole \
                database (and, for encrypted snapshots, use the key if the key policy allows \
                it). Sharing with an unknown account is a classic exfiltration path.",
    remediation: "`aws rds modify-db-snapshot-attribute --db-snapshot-identifier <id> \
                  --attribute-name restore --values-to-remove <account-id>` (cluster \
                  snapshots: `aws rds modify-db-cluster-snapshot-attribute`). If the sharing is \
                  intended, add the account to `trusted_accounts` in rdsguard.toml.",
    cis: &[],
    fsbp: &[],
    depends_on: SNAPSHOT_OPS,
    run: Runner::Snapshots(SnapshotJudge::own(shared_with_untrusted_account)),
};

fn shared_with_untrusted_account(
    ctx: &RegionCtx<'_>,
    kind: &SnapshotKind,
    s: &DbSnapshot,
) -> Judgement {
    let restore = restore_attribute(ctx, kind, s)?;
    let audited: BTreeSet<&str> = ctx
        .snapshot
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    let untrusted: Vec<&str> = restore
        .shared_with
        .iter()
        .map(String::as_str)
        .filter(|a| !audited.contains(a))
        .filter(|a| !ctx.config.trusted_accounts.iter().any(|t| t == a))
        .collect();
    Ok(Verdict::pass_if(
        untrusted.is_empty(),
        || {
            if restore.shared_with.is_empty() {
                format!("{} is not shared with any account", snap(kind, s))
            } else {
                format!("{} is shared only with trusted accounts", snap(kind, s))
            }
        },
        || {
            format!(
                "{} is shared with untrusted account(s) {}",
                snap(kind, s),
                untrusted.join(", ")
            )
        },
        evidence! {
            "shared_with" => restore.shared_with,
            "untrusted_accounts" => untrusted,
            "encrypted" => s.encrypted,
        },
    ))
}

// ---------------------------------------------------------------------------------------------

pub static RDS_SNAPSHOT_ENCRYPTED: CheckDef = CheckDef {
    id: "rds_snapshot_encrypted",
    title: "RDS snapshot is encrypted at rest",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbSnapshot",
    description: "Checks Encrypted on every DB snapshot and DB cluster snapshot the account \
                  owns, manual and automated.",
    rationale: "An unencrypted snapshot can be shared publicly or with any account and \
                restored without any key permission; encryption ties every restore to the KMS \
                key policy.",
    remediation: "Copy the snapshot with a KMS key and delete the unencrypted original: `aws \
                  rds copy-db-snapshot --source-db-snapshot-identifier <id> \
                  --target-db-snapshot-identifier <id>-encrypted --kms-key-id <cmk-arn>` (cluster \
                  snapshots: `aws rds copy-db-cluster-snapshot ... --kms-key-id`). Encrypt the \
                  source database so future snapshots are encrypted.",
    cis: &[],
    fsbp: &["RDS.4"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_SNAPSHOTS,
        ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
    ],
    run: Runner::Snapshots(SnapshotJudge::own(encrypted)),
};

fn encrypted(_: &RegionCtx<'_>, kind: &SnapshotKind, s: &DbSnapshot) -> Judgement {
    Ok(Verdict::pass_if(
        s.encrypted,
        || format!("{} is encrypted", snap(kind, s)),
        || format!("{} is not encrypted", snap(kind, s)),
        evidence! {
            "encrypted" => s.encrypted,
            "kms_key_id" => s.kms_key_id,
            "snapshot_type" => s.snapshot_type,
        },
    ))
}

#[cfg(test)]
mod tests {
    use rdsguard_findings::{Finding, Status};
    use rdsguard_model::RegionSnapshot;

    use super::super::instance::fixtures::*;
    use super::*;
    use crate::Config;
    use crate::testkit::{region, run, run_with, snapshot, status_of};

    fn findings(def: &CheckDef, r: RegionSnapshot) -> Vec<Finding> {
        run(def, &snapshot(r, None))
    }

    fn find<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
        f.iter().find(|f| f.resource.id == id).unwrap()
    }

    fn shared(mut s: DbSnapshot, public: bool, accounts: &[&str]) -> DbSnapshot {
        s.restore = Some(RestoreAttribute {
            public,
            shared_with: accounts.iter().map(|a| a.to_string()).collect(),
        });
        s
    }

    /// Private, public, automated, unknown and foreign snapshots of both kinds.
    fn sharing_region() -> RegionSnapshot {
        let mut r = region();
        r.rds.db_snapshots = vec![
            db_snapshot("private"),
            shared(db_snapshot("public"), true, &[]),
            shared(db_snapshot("partner"), false, &["444455556666"]),
            DbSnapshot {
                snapshot_type: "automated".into(),
                restore: None,
                ..db_snapshot("auto")
            },
            DbSnapshot {
                restore: None,
                ..db_snapshot("unread")
            },
            DbSnapshot {
                snapshot_type: "shared".into(),
                arn: "arn:aws:rds:us-east-1:999988887777:snapshot:theirs".into(),
                ..db_snapshot("theirs")
            },
        ];
        r.rds.db_cluster_snapshots = vec![
            cluster_snapshot("c-private"),
            shared(cluster_snapshot("c-public"), true, &["444455556666"]),
            DbSnapshot {
                restore: None,
                ..cluster_snapshot("c-unread")
            },
        ];
        r.gaps.push(resource_gap(
            ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
            "c-unread",
        ));
        r
    }

    #[test]
    fn public_covers_both_kinds() {
        let f = findings(&RDS_SNAPSHOT_PUBLIC, sharing_region());
        assert_eq!(status_of(&f, "private"), Status::Pass);
        assert_eq!(status_of(&f, "public"), Status::Fail);
        assert_eq!(status_of(&f, "partner"), Status::Pass);
        assert_eq!(status_of(&f, "auto"), Status::NotApplicable);
        assert_eq!(status_of(&f, "unread"), Status::NotAssessed);
        assert_eq!(status_of(&f, "theirs"), Status::NotApplicable);
        assert_eq!(status_of(&f, "c-private"), Status::Pass);
        assert_eq!(status_of(&f, "c-public"), Status::Fail);
        assert_eq!(status_of(&f, "c-unread"), Status::NotAssessed);
        assert_eq!(
            find(&f, "public").resource.resource_type,
            "AwsRdsDbSnapshot"
        );
        assert_eq!(
            find(&f, "c-public").resource.resource_type,
            "AwsRdsDbClusterSnapshot"
        );
        assert!(
            find(&f, "c-unread")
                .message
                .contains("DescribeDBClusterSnapshotAttributes access denied for c-unread")
        );
        assert!(find(&f, "unread").message.contains("were not collected"));
    }

    #[test]
    fn shared_with_untrusted_account_respects_trust() {
        let snap = snapshot(sharing_region(), None);
        let f = run(&RDS_SNAPSHOT_SHARED_WITH_UNTRUSTED_ACCOUNT, &snap);
        assert_eq!(status_of(&f, "private"), Status::Pass);
        assert_eq!(status_of(&f, "partner"), Status::Fail);
        assert_eq!(status_of(&f, "c-public"), Status::Fail);
        assert_eq!(status_of(&f, "auto"), Status::NotApplicable);
        assert_eq!(status_of(&f, "theirs"), Status::NotApplicable);
        assert_eq!(status_of(&f, "unread"), Status::NotAssessed);
        assert_eq!(
            find(&f, "partner").evidence["untrusted_accounts"],
            serde_json::json!(["444455556666"])
        );
        let trusting = Config {
            trusted_accounts: vec!["444455556666".into()],
            ..Config::default()
        };
        let f = run_with(
            &RDS_SNAPSHOT_SHARED_WITH_UNTRUSTED_ACCOUNT,
            &snap,
            &trusting,
        );
        assert_eq!(status_of(&f, "partner"), Status::Pass);
        assert_eq!(status_of(&f, "c-public"), Status::Pass);
    }

    #[test]
    fn sharing_with_another_audited_account_is_trusted() {
        let mut snap = snapshot(sharing_region(), None);
        let mut other = snap.accounts[0].clone();
        other.account_id = "444455556666".into();
        other.regions.clear();
        snap.accounts.push(other);
        let f = run(&RDS_SNAPSHOT_SHARED_WITH_UNTRUSTED_ACCOUNT, &snap);
        assert_eq!(status_of(&f, "partner"), Status::Pass);
    }

    #[test]
    fn encrypted_cases() {
        let mut r = region();
        r.rds.db_snapshots = vec![
            DbSnapshot {
                encrypted: true,
                ..db_snapshot("enc")
            },
            db_snapshot("plain"),
            DbSnapshot {
                snapshot_type: "automated".into(),
                ..db_snapshot("auto-plain")
            },
            DbSnapshot {
                snapshot_type: "public".into(),
                arn: "arn:aws:rds:us-east-1:999988887777:snapshot:theirs".into(),
                ..db_snapshot("theirs")
            },
            DbSnapshot {
                engine: "neptune".into(),
                ..db_snapshot("graph")
            },
        ];
        r.rds.db_cluster_snapshots = vec![cluster_snapshot("c-plain")];
        let f = findings(&RDS_SNAPSHOT_ENCRYPTED, r);
        assert_eq!(status_of(&f, "enc"), Status::Pass);
        assert_eq!(status_of(&f, "plain"), Status::Fail);
        assert_eq!(status_of(&f, "auto-plain"), Status::Fail);
        assert_eq!(status_of(&f, "theirs"), Status::NotApplicable);
        assert_eq!(status_of(&f, "graph"), Status::NotApplicable);
        assert_eq!(status_of(&f, "c-plain"), Status::Fail);
    }

    #[test]
    fn listing_gaps_make_the_region_not_assessed() {
        for def in CHECKS {
            for op in def.depends_on {
                let mut r = sharing_region();
                r.gaps.push(listing_gap(*op));
                let f = findings(def, r);
                assert_eq!(f.len(), 1, "{} {op}", def.id);
                assert_eq!(f[0].status, Status::NotAssessed);
            }
        }
    }

    #[test]
    fn metadata_is_complete() {
        for def in CHECKS {
            assert!(def.id.starts_with("rds_snapshot_"));
            assert!(def.remediation.contains("aws rds"));
            assert!(def.depends_on.contains(&ops::RDS_DESCRIBE_DB_SNAPSHOTS));
            assert!(
                def.depends_on
                    .contains(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS)
            );
        }
    }
}

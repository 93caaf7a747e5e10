//! Snapshot privacy: public snapshots made private, sharing with untrusted accounts removed
//! (ModifyDB[Cluster]SnapshotAttribute on `restore`). Trusted accounts (rdsguard.toml) and the
//! audited accounts keep their access.

use rdsguard_findings::Finding;
use serde_json::json;

use super::{RegionPlan, Target};
use crate::plan::{FindingRef, Impact, Remediation};

const PUBLIC: &str = "rds_snapshot_public";
const SHARED: &str = "rds_snapshot_shared_with_untrusted_account";

pub(super) fn handles(check: &str) -> bool {
    check == PUBLIC || check == SHARED
}

pub(super) fn plan(ctx: &mut RegionPlan<'_, '_>, findings: &[&Finding]) {
    for f in findings {
        let (snapshot, cluster) = match ctx.target(f) {
            Some(Target::Snapshot(s)) => (s, false),
            Some(Target::ClusterSnapshot(s)) => (s, true),
            _ => {
                ctx.b
                    .skip(f, "the snapshot is not in the snapshot data".to_string());
                continue;
            }
        };
        let Some(restore) = &snapshot.restore else {
            ctx.b
                .skip(f, "who may restore the snapshot is unknown".to_string());
            continue;
        };
        let trusted: Vec<&str> = ctx
            .b
            .opts
            .trusted_accounts
            .iter()
            .map(String::as_str)
            .chain(
                ctx.b
                    .snapshot
                    .accounts
                    .iter()
                    .map(|a| a.account_id.as_str()),
            )
            .collect();
        let mut remove: Vec<String> = Vec::new();
        if restore.public {
            remove.push("all".to_string());
        }
        if &*f.check_id == SHARED || restore.public {
            remove.extend(
                restore
                    .shared_with
                    .iter()
                    .filter(|a| !trusted.contains(&a.as_str()))
                    .cloned(),
            );
        }
        if remove.is_empty() {
            ctx.b
                .skip(f, "nothing to remove: the snapshot is private".to_string());
            continue;
        }
        let (operation, id_field, what) = if cluster {
            (
                "ModifyDBClusterSnapshotAttribute",
                "DBClusterSnapshotIdentifier",
                "cluster snapshot",
            )
        } else {
            (
                "ModifyDBSnapshotAttribute",
                "DBSnapshotIdentifier",
                "snapshot",
            )
        };
        let id = snapshot.identifier.clone();
        let key = ctx.key(&[operation, &id]);
        let mut params = json!({"AttributeName": "restore", "ValuesToRemove": remove});
        params[id_field] = json!(id);
        let who = remove
            .iter()
            .map(|v| {
                if v == "all" {
                    "everyone (public)".to_string()
                } else {
                    format!("account {v}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut step = ctx.step(
            format!("{}/make-private", crate::planner::aws_name(&[&id])),
            Remediation::SnapshotPrivacy,
            vec![FindingRef::of(f)],
            "rds",
            operation,
            params,
            Impact::None,
            format!("Stop sharing {what} {id} with {who}"),
        );
        step.verification = format!("Describe{}Attributes no longer lists them", &operation[6..]);
        step.rollback = format!("{operation} {id} restore ValuesToAdd={}", remove.join(","));
        ctx.b.add(&key, step);
    }
}

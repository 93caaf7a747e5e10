//! Tagging checks (FSBP RDS.28, RDS.29, RDS.30, RDS.32, RDS.33): RDS resources carry the tag
//! keys named in `required_tag_keys`, or at least one tag when none are named. AWS system tags
//! (`aws:` prefix) never count, as in FSBP.
//!
//! FSBP RDS.31 (DB security groups tagged) is deliberately absent: DB security groups belong to
//! EC2-Classic, which AWS retired in 2022; VPC security groups are EC2 resources.

use std::fmt::Display;

use super::common::Described;
use rdsguard_findings::{ResourceRef, Severity};
use rdsguard_model::ops::RDS_LIST_TAGS_FOR_RESOURCE;
use rdsguard_model::{DbInstance, DbSnapshot, Tags, ops};

use super::common::{cluster_resource, gap_in};
use super::instance::Judgement;
use super::instance::{Verdict, not_rds};
use super::snapshot::{SnapshotJudge, SnapshotKind};

use super::instance::InstanceJudge;
use crate::engine::{CheckDef, Emitter, RegionCtx, Runner};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[
    &RDS_CLUSTER_TAGGED,
    &RDS_CLUSTER_SNAPSHOT_TAGGED,
    &RDS_INSTANCE_TAGGED,
    &RDS_SNAPSHOT_TAGGED,
    &RDS_SUBNET_GROUP_TAGGED,
];

/// Judge `tags` against the configured requirement. NOT_ASSESSED when reading the resource's
/// tags failed (a per-resource ListTagsForResource gap, keyed by ARN or name).
fn tag_verdict(
    ctx: &RegionCtx<'_>,
    what: &dyn Display,
    tags: &Tags,
    arn: Option<&str>,
    name: &str,
) -> Verdict {
    if let Some(gap) = [arn, Some(name)]
        .into_iter()
        .flatten()
        .find_map(|r| gap_in(ctx, RDS_LIST_TAGS_FOR_RESOURCE, Some(r)))
    {
        return Verdict::NotAssessed(msg!("the tags of {what} are unknown: {}", gap.describe()));
    }
    // The resource's own tags (not `aws:` ones), listed only for a message or evidence.
    let own = || {
        tags.keys()
            .map(String::as_str)
            .filter(|k| !k.starts_with("aws:"))
    };
    let required = &ctx.config.required_tag_keys;
    if required.is_empty() {
        return Verdict::pass_if(
            own().next().is_some(),
            || format!("{what} has {} tag(s)", own().count()),
            || format!("{what} has no tags"),
            evidence! { "tag_keys" => own().collect::<Vec<_>>() },
        );
    }
    let missing: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|k| !tags.contains_key(*k))
        .collect();
    Verdict::pass_if(
        missing.is_empty(),
        || format!("{what} has every required tag"),
        || format!("{what} lacks required tag(s) {}", missing.join(", ")),
        evidence! {
            "tag_keys" => own().collect::<Vec<_>>(),
            "required_tag_keys" => required,
            "missing_tag_keys" => missing,
        },
    )
}

const RATIONALE: &str = "Tags record owner, environment and data classification; they drive \
                         tag-based access control (ABAC), cost allocation and incident \
                         response. An untagged database or snapshot has no accountable owner.";

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_TAGGED: CheckDef = CheckDef {
    id: "rds_cluster_tagged",
    title: "RDS DB cluster is tagged",
    severity: Severity::Low,
    resource_type: "AwsRdsDbCluster",
    description: "Checks that each DB cluster has every key in `required_tag_keys`, or at \
                  least one non-system tag when none are configured.",
    rationale: RATIONALE,
    remediation: "`aws rds add-tags-to-resource --resource-name <cluster-arn> --tags \
                  Key=owner,Value=<team> Key=data-classification,Value=<level>`.",
    cis: &[],
    fsbp: &["RDS.28"],
    depends_on: &[ops::RDS_DESCRIBE_DB_CLUSTERS, RDS_LIST_TAGS_FOR_RESOURCE],
    run: Runner::Region(cluster_tagged),
};

fn cluster_tagged(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for c in &ctx.region.rds.db_clusters {
        if em.skip_unwanted() {
            continue;
        }
        let id = &c.db_cluster_identifier;
        let verdict = not_rds("DB cluster", id, &c.engine).unwrap_or_else(|| {
            tag_verdict(
                ctx,
                &Described("DB cluster", id),
                &c.tags,
                Some(&c.db_cluster_arn),
                id,
            )
        });
        verdict.emit(em, cluster_resource(ctx, c));
    }
}

// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_TAGGED: CheckDef = CheckDef {
    id: "rds_instance_tagged",
    title: "RDS DB instance is tagged",
    severity: Severity::Low,
    resource_type: "AwsRdsDbInstance",
    description: "Checks that each DB instance has every key in `required_tag_keys`, or at \
                  least one non-system tag when none are configured.",
    rationale: RATIONALE,
    remediation: "`aws rds add-tags-to-resource --resource-name <db-instance-arn> --tags \
                  Key=owner,Value=<team> Key=data-classification,Value=<level>`.",
    cis: &[],
    fsbp: &["RDS.30"],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES, RDS_LIST_TAGS_FOR_RESOURCE],
    run: Runner::Instances(InstanceJudge::any(instance_tagged)),
};

fn instance_tagged(ctx: &RegionCtx<'_>, db: &DbInstance) -> Verdict {
    let id = &db.db_instance_identifier;
    not_rds("DB instance", id, &db.engine).unwrap_or_else(|| {
        tag_verdict(
            ctx,
            &Described("DB instance", id),
            &db.tags,
            Some(&db.db_instance_arn),
            id,
        )
    })
}

// ---------------------------------------------------------------------------------------------

/// Of the account's own snapshots ([`SnapshotJudge::own_of_kind`]: others are not
/// applicable).
fn snapshot_tagged(ctx: &RegionCtx<'_>, kind: &SnapshotKind, s: &DbSnapshot) -> Judgement {
    let what = Described(kind.label, &s.identifier);
    Ok(if s.is_automated() {
        Verdict::NotApplicable(msg!(
            "{what} is automated; it takes its tags from its database when copy tags to \
             snapshots is on"
        ))
    } else {
        tag_verdict(ctx, &what, &s.tags, Some(&s.arn), &s.identifier)
    })
}

pub static RDS_CLUSTER_SNAPSHOT_TAGGED: CheckDef = CheckDef {
    id: "rds_cluster_snapshot_tagged",
    title: "RDS DB cluster snapshot is tagged",
    severity: Severity::Low,
    resource_type: "AwsRdsDbClusterSnapshot",
    description: "Checks that each manual DB cluster snapshot the account owns has every key \
                  in `required_tag_keys`, or at least one non-system tag when none are \
                  configured. Automated snapshots (tagged from their cluster) and snapshots \
                  shared by other accounts are not applicable.",
    rationale: RATIONALE,
    remediation: "`aws rds add-tags-to-resource --resource-name <cluster-snapshot-arn> --tags \
                  Key=owner,Value=<team>`; enable copy tags to snapshots on the cluster.",
    cis: &[],
    fsbp: &["RDS.29"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
        RDS_LIST_TAGS_FOR_RESOURCE,
    ],
    run: Runner::Snapshots(SnapshotJudge::own_of_kind(true, snapshot_tagged)),
};

pub static RDS_SNAPSHOT_TAGGED: CheckDef = CheckDef {
    id: "rds_snapshot_tagged",
    title: "RDS DB snapshot is tagged",
    severity: Severity::Low,
    resource_type: "AwsRdsDbSnapshot",
    description: "Checks that each manual DB snapshot the account owns has every key in \
                  `required_tag_keys`, or at least one non-system tag when none are configured. \
                  Automated snapshots (tagged from their instance) and snapshots shared by other \
                  accounts are not applicable.",
    rationale: RATIONALE,
    remediation: "`aws rds add-tags-to-resource --resource-name <snapshot-arn> --tags \
                  Key=owner,Value=<team>`; enable copy tags to snapshots on the instance.",
    cis: &[],
    fsbp: &["RDS.32"],
    depends_on: &[ops::RDS_DESCRIBE_DB_SNAPSHOTS, RDS_LIST_TAGS_FOR_RESOURCE],
    run: Runner::Snapshots(SnapshotJudge::own_of_kind(false, snapshot_tagged)),
};

// ---------------------------------------------------------------------------------------------

pub static RDS_SUBNET_GROUP_TAGGED: CheckDef = CheckDef {
    id: "rds_subnet_group_tagged",
    title: "RDS DB subnet group is tagged",
    severity: Severity::Low,
    resource_type: "AwsRdsDbSubnetGroup",
    description: "Checks that each DB subnet group has every key in `required_tag_keys`, or at \
                  least one non-system tag when none are configured. DescribeDBSubnetGroups \
                  returns no tags, so they come from ListTagsForResource; a group whose tags \
                  could not be read is not assessed.",
    rationale: RATIONALE,
    remediation: "`aws rds add-tags-to-resource --resource-name <subnet-group-arn> --tags \
                  Key=owner,Value=<team>`.",
    cis: &[],
    fsbp: &["RDS.33"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_SUBNET_GROUPS,
        RDS_LIST_TAGS_FOR_RESOURCE,
    ],
    run: Runner::Region(subnet_group_tagged),
};

fn subnet_group_tagged(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for g in &ctx.region.rds.db_subnet_groups {
        if em.skip_unwanted() {
            continue;
        }
        let resource = ResourceRef {
            resource_type: "AwsRdsDbSubnetGroup".into(),
            id: g.name.clone(),
            arn: g.arn.clone(),
            account_id: super::common::region_names(ctx).0,
            region: Some(super::common::region_names(ctx).1),
        };
        tag_verdict(
            ctx,
            &format!("DB subnet group {}", g.name),
            &g.tags,
            g.arn.as_deref(),
            &g.name,
        )
        .emit(em, resource);
    }
}

#[cfg(test)]
mod tests {
    use rdsguard_findings::{Finding, Status};
    use rdsguard_model::{DbSubnetGroup, RegionSnapshot};

    use super::super::instance::fixtures::*;
    use super::*;
    use crate::Config;
    use crate::testkit::{region, run, run_with, snapshot, status_of};

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A region with, for every resource kind, an untagged, a system-tagged-only, a tagged
    /// (`owner`) and an unreadable resource.
    fn tagged_region() -> RegionSnapshot {
        let mut r = region();
        let system = tags(&[("aws:cloudformation:stack-name", "s")]);
        let owner = tags(&[("owner", "db-team")]);
        for (suffix, t) in [("bare", Tags::new()), ("system", system), ("owned", owner)] {
            let mut c = cluster(&format!("cluster-{suffix}"), "aurora-mysql", &[]);
            c.tags = t.clone();
            r.rds.db_clusters.push(c);
            let mut db = instance(&format!("db-{suffix}"), "mysql");
            db.tags = t.clone();
            r.rds.db_instances.push(db);
            let mut s = db_snapshot(&format!("snap-{suffix}"));
            s.tags = t.clone();
            r.rds.db_snapshots.push(s);
            let mut cs = cluster_snapshot(&format!("csnap-{suffix}"));
            cs.tags = t.clone();
            r.rds.db_cluster_snapshots.push(cs);
            r.rds.db_subnet_groups.push(DbSubnetGroup {
                name: format!("sng-{suffix}"),
                arn: Some(format!(
                    "arn:aws:rds:us-east-1:111122223333:subgrp:sng-{suffix}"
                )),
                tags: t,
                ..Default::default()
            });
        }
        for name in ["cluster-x", "db-x", "snap-x", "csnap-x", "sng-x"] {
            r.gaps.push(resource_gap(RDS_LIST_TAGS_FOR_RESOURCE, name));
        }
        r.rds
            .db_clusters
            .push(cluster("cluster-x", "aurora-mysql", &[]));
        r.rds.db_instances.push(instance("db-x", "mysql"));
        r.rds.db_snapshots.push(db_snapshot("snap-x"));
        r.rds.db_cluster_snapshots.push(cluster_snapshot("csnap-x"));
        r.rds.db_subnet_groups.push(DbSubnetGroup {
            name: "sng-x".into(),
            ..Default::default()
        });
        // Not applicable ones.
        r.rds.db_clusters.push(cluster("cluster-na", "docdb", &[]));
        r.rds.db_instances.push(instance("db-na", "neptune"));
        r.rds.db_snapshots.push(DbSnapshot {
            snapshot_type: "automated".into(),
            ..db_snapshot("snap-na")
        });
        r.rds.db_cluster_snapshots.push(DbSnapshot {
            snapshot_type: "shared".into(),
            arn: "arn:aws:rds:us-east-1:999988887777:cluster-snapshot:csnap-na".into(),
            ..cluster_snapshot("csnap-na")
        });
        r
    }

    fn cases() -> [(&'static CheckDef, &'static str, &'static str); 5] {
        [
            (&RDS_CLUSTER_TAGGED, "cluster", "AwsRdsDbCluster"),
            (&RDS_INSTANCE_TAGGED, "db", "AwsRdsDbInstance"),
            (&RDS_SNAPSHOT_TAGGED, "snap", "AwsRdsDbSnapshot"),
            (
                &RDS_CLUSTER_SNAPSHOT_TAGGED,
                "csnap",
                "AwsRdsDbClusterSnapshot",
            ),
            (&RDS_SUBNET_GROUP_TAGGED, "sng", "AwsRdsDbSubnetGroup"),
        ]
    }

    #[test]
    fn at_least_one_user_tag_by_default() {
        let snap = snapshot(tagged_region(), None);
        for (def, prefix, rtype) in cases() {
            let f: Vec<Finding> = run(def, &snap);
            assert_eq!(
                status_of(&f, &format!("{prefix}-bare")),
                Status::Fail,
                "{}",
                def.id
            );
            // System tags do not count.
            assert_eq!(
                status_of(&f, &format!("{prefix}-system")),
                Status::Fail,
                "{}",
                def.id
            );
            assert_eq!(
                status_of(&f, &format!("{prefix}-owned")),
                Status::Pass,
                "{}",
                def.id
            );
            assert_eq!(
                status_of(&f, &format!("{prefix}-x")),
                Status::NotAssessed,
                "{}",
                def.id
            );
            if prefix != "sng" {
                assert_eq!(
                    status_of(&f, &format!("{prefix}-na")),
                    Status::NotApplicable,
                    "{}",
                    def.id
                );
            }
            assert!(
                f.iter().all(|f| f.resource.resource_type == rtype),
                "{}",
                def.id
            );
        }
    }

    #[test]
    fn required_keys_are_all_needed() {
        let snap = snapshot(tagged_region(), None);
        let cfg = Config {
            required_tag_keys: vec!["owner".into(), "env".into()],
            ..Config::default()
        };
        for (def, prefix, _) in cases() {
            let f = run_with(def, &snap, &cfg);
            let owned = f
                .iter()
                .find(|f| f.resource.id == format!("{prefix}-owned"))
                .unwrap();
            assert_eq!(owned.status, Status::Fail, "{}", def.id);
            assert_eq!(
                owned.evidence["missing_tag_keys"],
                serde_json::json!(["env"])
            );
        }
        let cfg = Config {
            required_tag_keys: vec!["owner".into()],
            ..Config::default()
        };
        for (def, prefix, _) in cases() {
            let f = run_with(def, &snap, &cfg);
            assert_eq!(status_of(&f, &format!("{prefix}-owned")), Status::Pass);
        }
    }

    #[test]
    fn listing_gaps_are_not_assessed() {
        for (def, _, _) in cases() {
            for op in def.depends_on {
                let mut r = tagged_region();
                r.gaps.push(listing_gap(*op));
                let f = run(def, &snapshot(r, None));
                assert_eq!(f.len(), 1, "{} {op}", def.id);
                assert_eq!(f[0].status, Status::NotAssessed);
            }
        }
    }
}

//! DB cluster posture checks, Aurora and Multi-AZ DB clusters alike (FSBP RDS.7, 12, 14, 15,
//! 16, 24, 26, 27, 35, 47, 48, 50, 51). Each check knows which cluster kinds and engine modes
//! the setting exists for and reports the others NOT_APPLICABLE with the reason.

use std::collections::BTreeSet;

use rdsguard_findings::Severity;
use rdsguard_model::{DbCluster, DbInstance, Op, ops};

use super::common::FastMap;
use super::common::{Described, EngineFamily, cluster_resource};
use super::instance::{
    Judgement, Verdict, backup_protected, engine_version_verdict, is_default_username, not_rds,
};

use crate::engine::{CheckDef, Emitter, RegionCtx, Runner};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[
    &RDS_CLUSTER_STORAGE_ENCRYPTED,
    &RDS_CLUSTER_DELETION_PROTECTION,
    &RDS_CLUSTER_MULTI_AZ,
    &RDS_CLUSTER_IAM_AUTHENTICATION,
    &RDS_CLUSTER_BACKUP_RETENTION,
    &RDS_CLUSTER_COPY_TAGS_TO_SNAPSHOTS,
    &RDS_CLUSTER_BACKTRACK,
    &RDS_CLUSTER_AUTO_MINOR_VERSION_UPGRADE,
    &RDS_CLUSTER_DEFAULT_PORT,
    &RDS_CLUSTER_DEFAULT_ADMIN,
    &RDS_CLUSTER_BACKUP_PLAN,
    &RDS_CLUSTER_DEPRECATED_ENGINE_VERSION,
    &RDS_CLUSTER_MASTER_PASSWORD_MANAGED,
];

const CLUSTER_LISTING: &[Op] = &[ops::RDS_DESCRIBE_DB_CLUSTERS];

/// Run `judge` on every RDS DB cluster of the region and emit its verdict.
fn each_cluster(
    ctx: &RegionCtx<'_>,
    em: &mut Emitter<'_>,
    judge: fn(&RegionCtx<'_>, &DbCluster) -> Judgement,
) {
    for c in &ctx.region.rds.db_clusters {
        if em.skip_unwanted() {
            continue;
        }
        let verdict = match not_rds("DB cluster", &c.db_cluster_identifier, &c.engine) {
            Some(v) => v,
            None => judge(ctx, c).unwrap_or_else(|early| early),
        };
        verdict.emit(em, cluster_resource(ctx, c));
    }
}

fn clu(c: &DbCluster) -> Described<'_> {
    Described("DB cluster", &c.db_cluster_identifier)
}

/// `aurora` (Aurora MySQL 1), `aurora-mysql`, `aurora-postgresql`, or `multi-az` for Multi-AZ
/// DB clusters: the kind shown in evidence.
fn kind(c: &DbCluster) -> &'static str {
    if c.is_aurora() {
        "aurora"
    } else {
        "multi-az-db-cluster"
    }
}

/// Aurora Serverless v1, which lacks several cluster features.
fn is_serverless_v1(c: &DbCluster) -> bool {
    c.engine_mode.as_deref() == Some("serverless")
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_STORAGE_ENCRYPTED: CheckDef = CheckDef {
    id: "rds_cluster_storage_encrypted",
    title: "RDS DB cluster storage is encrypted at rest",
    severity: Severity::High,
    resource_type: "AwsRdsDbCluster",
    description: "Checks StorageEncrypted on every Aurora and Multi-AZ DB cluster.",
    rationale: "Unencrypted cluster volumes expose the data, its automated backups and every \
                snapshot and clone taken from it.",
    remediation: "Encryption cannot be enabled in place: snapshot the cluster (`aws rds \
                  create-db-cluster-snapshot`), restore it with a customer managed key (`aws \
                  rds restore-db-cluster-from-snapshot --kms-key-id <cmk-arn>`), add instances \
                  and cut over.",
    cis: &[],
    fsbp: &["RDS.27"],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(storage_encrypted),
};

fn storage_encrypted(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |_, c| {
        Ok(Verdict::pass_if(
            c.storage_encrypted,
            || format!("{} is encrypted at rest", clu(c)),
            || format!("{} is not encrypted at rest", clu(c)),
            evidence! { "storage_encrypted" => c.storage_encrypted, "kms_key_id" => c.kms_key_id },
        ))
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_DELETION_PROTECTION: CheckDef = CheckDef {
    id: "rds_cluster_deletion_protection",
    title: "RDS DB cluster has deletion protection enabled",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "Checks DeletionProtection on every Aurora and Multi-AZ DB cluster.",
    rationale: "Deletion protection stops an accidental or malicious DeleteDBCluster, which \
                destroys the cluster volume and, unless retained, its automated backups.",
    remediation: "`aws rds modify-db-cluster --db-cluster-identifier <id> \
                  --deletion-protection --apply-immediately` (or `rdsguard fix --check \
                  rds_cluster_deletion_protection`).",
    cis: &[],
    fsbp: &["RDS.7"],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(deletion_protection),
};

fn deletion_protection(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |_, c| {
        Ok(Verdict::pass_if(
            c.deletion_protection,
            || format!("{} is protected from deletion", clu(c)),
            || format!("{} can be deleted: deletion protection is off", clu(c)),
            evidence! { "deletion_protection" => c.deletion_protection },
        ))
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_MULTI_AZ: CheckDef = CheckDef {
    id: "rds_cluster_multi_az",
    title: "RDS DB cluster runs instances in multiple Availability Zones",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "Passes when the cluster reports MultiAZ or its member instances sit in at \
                  least two Availability Zones (an Aurora cluster's storage always spans three \
                  AZs, but a cluster whose only instances share one AZ must recreate a writer \
                  after an AZ failure). Multi-AZ DB clusters are Multi-AZ by construction. \
                  Aurora Serverless v1 is not applicable (capacity is not placed per AZ). When \
                  some members are missing from the snapshot and the known ones share one AZ, \
                  the cluster is not assessed.",
    rationale: "With instances in one AZ only, an AZ outage or writer failure leaves the \
                database unavailable until a new instance is created, instead of a failover of \
                about a minute.",
    remediation: "Add a reader in another AZ: `aws rds create-db-instance \
                  --db-cluster-identifier <id> --db-instance-identifier <id>-reader \
                  --engine <engine> --db-instance-class <class> --availability-zone <other-az>` \
                  (console: Actions, Add reader).",
    cis: &["v5.0.0/2.2.4"],
    fsbp: &["RDS.15"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        ops::RDS_DESCRIBE_DB_INSTANCES,
    ],
    run: Runner::Region(multi_az),
};

fn multi_az(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let placement = Placement::of(&ctx.region.rds.db_instances);
    for c in &ctx.region.rds.db_clusters {
        if em.skip_unwanted() {
            continue;
        }
        let verdict = not_rds("DB cluster", &c.db_cluster_identifier, &c.engine)
            .unwrap_or_else(|| cluster_multi_az(c, &placement));
        verdict.emit(em, cluster_resource(ctx, c));
    }
}

/// The Availability Zone of the region's instances by identifier, indexed once for all
/// clusters: the instances that name a cluster, every other one only when a cluster names a
/// member not among them (a large region has many more instances than cluster members). An
/// identifier listed twice gives the last of its records that name a cluster, if any.
struct Placement<'a> {
    instances: &'a [DbInstance],
    members: FastMap<&'a str, Option<&'a str>>,
    all: std::cell::OnceCell<FastMap<&'a str, Option<&'a str>>>,
}

impl<'a> Placement<'a> {
    fn of(instances: &'a [DbInstance]) -> Self {
        Placement {
            instances,
            members: instances
                .iter()
                .filter(|db| db.db_cluster_identifier.is_some())
                .map(Self::entry)
                .collect(),
            all: std::cell::OnceCell::new(),
        }
    }

    /// `None`: no such instance, or its zone is unknown.
    fn zone(&self, id: &str) -> Option<&'a str> {
        if let Some(&az) = self.members.get(id) {
            return az;
        }
        let all = self
            .all
            .get_or_init(|| self.instances.iter().map(Self::entry).collect());
        all.get(id).copied().flatten()
    }

    fn entry(db: &'a DbInstance) -> (&'a str, Option<&'a str>) {
        (
            db.db_instance_identifier.as_str(),
            db.availability_zone.as_deref(),
        )
    }
}

fn cluster_multi_az(c: &DbCluster, placement: &Placement<'_>) -> Verdict {
    if is_serverless_v1(c) {
        return Verdict::NotApplicable(msg!(
            "{} is Aurora Serverless v1, whose capacity is not placed in chosen AZs",
            clu(c)
        ));
    }
    let mut azs = BTreeSet::new();
    let mut unknown = Vec::new();
    for m in &c.members {
        match placement.zone(&m.db_instance_identifier) {
            Some(az) => {
                azs.insert(az);
            }
            None => unknown.push(m.db_instance_identifier.as_str()),
        }
    }
    let ev = evidence! {
        "cluster_kind" => kind(c),
        "multi_az" => c.multi_az,
        "member_count" => c.members.len(),
        "member_availability_zones" => azs,
        "members_with_unknown_az" => unknown,
    };
    if c.multi_az || azs.len() >= 2 {
        let why = if c.multi_az {
            "reports MultiAZ".to_string()
        } else {
            format!("has instances in {} AZs", azs.len())
        };
        return Verdict::Pass(msg!("{} {why}", clu(c)), ev);
    }
    if !unknown.is_empty() {
        return Verdict::NotAssessed(msg!(
            "{} does not report MultiAZ and the AZ of member(s) {} is unknown",
            clu(c),
            unknown.join(", ")
        ));
    }
    let msg = match azs.iter().next() {
        None => format!("{} has no DB instances", clu(c)),
        Some(az) => format!("{} has all its instances in {az}", clu(c)),
    };
    Verdict::Fail(msg, ev)
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_IAM_AUTHENTICATION: CheckDef = CheckDef {
    id: "rds_cluster_iam_authentication",
    title: "RDS DB cluster has IAM database authentication enabled",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "Checks IAMDatabaseAuthenticationEnabled on Aurora MySQL, Aurora PostgreSQL \
                  and Multi-AZ DB (MySQL, PostgreSQL) clusters. Aurora Serverless v1 and other \
                  engines, which do not support it, are not applicable.",
    rationale: "IAM authentication replaces long-lived database passwords with short-lived \
                tokens issued to IAM principals, so access is granted, audited and revoked in \
                IAM.",
    remediation: "`aws rds modify-db-cluster --db-cluster-identifier <id> \
                  --enable-iam-database-authentication --apply-immediately`, then grant \
                  `rds-db:connect` and create IAM-authenticated database users.",
    cis: &[],
    fsbp: &["RDS.12"],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(iam_authentication),
};

fn iam_authentication(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |_, c| {
        let supported = matches!(
            EngineFamily::of(&c.engine),
            EngineFamily::AuroraMySql
                | EngineFamily::AuroraPostgres
                | EngineFamily::MySql
                | EngineFamily::Postgres
        );
        if !supported {
            return Err(Verdict::NotApplicable(msg!(
                "{} runs {}, which does not support IAM database authentication",
                clu(c),
                c.engine
            )));
        }
        if is_serverless_v1(c) {
            return Err(Verdict::NotApplicable(msg!(
                "{} is Aurora Serverless v1, which does not support IAM database authentication",
                clu(c)
            )));
        }
        Ok(Verdict::pass_if(
            c.iam_database_authentication_enabled,
            || format!("{} accepts IAM database authentication", clu(c)),
            || format!("{} has IAM database authentication off", clu(c)),
            evidence! {
                "iam_database_authentication_enabled" => c.iam_database_authentication_enabled,
                "engine" => c.engine,
            },
        ))
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_BACKUP_RETENTION: CheckDef = CheckDef {
    id: "rds_cluster_backup_retention",
    title: "RDS DB cluster keeps automated backups long enough",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "Checks that BackupRetentionPeriod is at least `min_backup_retention_days` \
                  (default 7, as FSBP RDS.50's minimumBackupRetentionPeriod).",
    rationale: "Point-in-time recovery reaches back only as far as the retention period; a \
                short one may end before corruption or tampering is noticed.",
    remediation: "`aws rds modify-db-cluster --db-cluster-identifier <id> \
                  --backup-retention-period 7 --apply-immediately`.",
    cis: &[],
    fsbp: &["RDS.50"],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(backup_retention),
};

fn backup_retention(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |ctx, c| {
        let min = ctx.config.min_backup_retention_days;
        let days = c.backup_retention_period;
        Ok(Verdict::pass_if(
            days >= min,
            || format!("{} keeps automated backups for {days} days", clu(c)),
            || {
                format!(
                    "{} keeps automated backups for {days} days, less than the {min} required",
                    clu(c)
                )
            },
            evidence! { "backup_retention_period" => days, "min_backup_retention_days" => min },
        ))
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_COPY_TAGS_TO_SNAPSHOTS: CheckDef = CheckDef {
    id: "rds_cluster_copy_tags_to_snapshots",
    title: "RDS DB cluster copies its tags to snapshots",
    severity: Severity::Low,
    resource_type: "AwsRdsDbCluster",
    description: "Checks CopyTagsToSnapshot on Aurora clusters (FSBP RDS.16) and Multi-AZ DB \
                  clusters (RDS.47 PostgreSQL, RDS.48 MySQL); the evidence names the control.",
    rationale: "Tags drive ownership, data classification and tag-based access control; \
                untagged snapshots escape those policies and are hard to attribute.",
    remediation: "`aws rds modify-db-cluster --db-cluster-identifier <id> \
                  --copy-tags-to-snapshot --apply-immediately`.",
    cis: &[],
    fsbp: &["RDS.16", "RDS.47", "RDS.48"],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(copy_tags_to_snapshots),
};

fn copy_tags_to_snapshots(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |_, c| {
        let control = match EngineFamily::of(&c.engine) {
            EngineFamily::Postgres => "RDS.47",
            EngineFamily::MySql => "RDS.48",
            _ => "RDS.16",
        };
        Ok(Verdict::pass_if(
            c.copy_tags_to_snapshot,
            || format!("{} copies its tags to snapshots", clu(c)),
            || format!("{} does not copy its tags to snapshots", clu(c)),
            evidence! { "copy_tags_to_snapshot" => c.copy_tags_to_snapshot, "fsbp_control" => control },
        ))
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_BACKTRACK: CheckDef = CheckDef {
    id: "rds_cluster_backtrack",
    title: "Aurora MySQL DB cluster has backtracking enabled",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "Checks that BacktrackWindow is greater than 0 on Aurora MySQL clusters. \
                  Other engines, Aurora Serverless v1, multi-master clusters and clusters in a \
                  global database (none of which support backtracking) are not applicable.",
    rationale: "Backtracking rewinds the cluster to a point in time within minutes, without a \
                restore, after a destructive statement or tampering.",
    remediation: "`aws rds modify-db-cluster --db-cluster-identifier <id> --backtrack-window \
                  86400` works only on clusters created with backtracking; otherwise restore or \
                  clone into a new cluster with `--backtrack-window` set and cut over.",
    cis: &[],
    fsbp: &["RDS.14"],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(backtrack),
};

fn backtrack(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |_, c| {
        if EngineFamily::of(&c.engine) != EngineFamily::AuroraMySql {
            return Err(Verdict::NotApplicable(msg!(
                "{} runs {}; backtracking exists only for Aurora MySQL",
                clu(c),
                c.engine
            )));
        }
        let mode = c.engine_mode.as_deref().unwrap_or("provisioned");
        if matches!(mode, "serverless" | "multimaster" | "global") {
            return Err(Verdict::NotApplicable(msg!(
                "{} uses engine mode {mode}, which does not support backtracking",
                clu(c)
            )));
        }
        if let Some(g) = &c.global_cluster_identifier {
            return Err(Verdict::NotApplicable(msg!(
                "{} is part of global database {g}, which does not support backtracking",
                clu(c)
            )));
        }
        let window = c.backtrack_window.unwrap_or(0);
        Ok(Verdict::pass_if(
            window > 0,
            || format!("{} can backtrack {window} seconds", clu(c)),
            || format!("{} has backtracking off", clu(c)),
            evidence! { "backtrack_window_seconds" => window, "engine_mode" => mode },
        ))
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_AUTO_MINOR_VERSION_UPGRADE: CheckDef = CheckDef {
    id: "rds_cluster_auto_minor_version_upgrade",
    title: "Multi-AZ DB cluster has automatic minor version upgrades enabled",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "Checks AutoMinorVersionUpgrade on Multi-AZ DB clusters. Aurora clusters are \
                  not applicable: Aurora applies it per instance \
                  (rds_instance_auto_minor_version_upgrade). A Multi-AZ DB cluster that does \
                  not report the flag is not assessed.",
    rationale: "Minor versions carry security fixes; without automatic upgrades known \
                vulnerabilities stay until someone upgrades by hand.",
    remediation: "`aws rds modify-db-cluster --db-cluster-identifier <id> \
                  --auto-minor-version-upgrade --apply-immediately`.",
    cis: &[],
    fsbp: &["RDS.35"],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(auto_minor_version_upgrade),
};

fn auto_minor_version_upgrade(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |_, c| {
        if c.is_aurora() {
            return Err(Verdict::NotApplicable(msg!(
                "{} is an Aurora cluster; Aurora applies automatic minor version upgrades per \
                 instance (rds_instance_auto_minor_version_upgrade)",
                clu(c)
            )));
        }
        let Some(on) = c.auto_minor_version_upgrade else {
            return Err(Verdict::NotAssessed(msg!(
                "{} does not report AutoMinorVersionUpgrade",
                clu(c)
            )));
        };
        Ok(Verdict::pass_if(
            on,
            || format!("{} upgrades minor versions automatically", clu(c)),
            || format!("{} has automatic minor version upgrades off", clu(c)),
            evidence! { "auto_minor_version_upgrade" => on, "engine_version" => c.engine_version },
        ))
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_DEFAULT_PORT: CheckDef = CheckDef {
    id: "rds_cluster_default_port",
    title: "RDS DB cluster does not listen on its engine's default port",
    severity: Severity::Low,
    resource_type: "AwsRdsDbCluster",
    description: "Compares the cluster port with the engine's default (3306 Aurora MySQL and \
                  MySQL, 5432 Aurora PostgreSQL and PostgreSQL). An unknown port is not \
                  assessed; engines without a known default are not applicable.",
    rationale: "Scanners probe default database ports first; a non-default port removes the \
                cluster from untargeted sweeps. It is defence in depth, not access control.",
    remediation: "`aws rds modify-db-cluster --db-cluster-identifier <id> --port <port> \
                  --apply-immediately` (instances restart); update security group rules and \
                  client connection strings.",
    cis: &[],
    fsbp: &[],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(default_port),
};

fn default_port(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |_, c| {
        let Some(default) = EngineFamily::of(&c.engine).default_port() else {
            return Err(Verdict::NotApplicable(msg!(
                "{} runs {}, which has no known default port",
                clu(c),
                c.engine
            )));
        };
        let Some(port) = c.port else {
            return Err(Verdict::NotAssessed(msg!("{} reports no port", clu(c))));
        };
        Ok(Verdict::pass_if(
            port != default,
            || format!("{} listens on non-default port {port}", clu(c)),
            || {
                format!(
                    "{} listens on {port}, the default port of {}",
                    clu(c),
                    c.engine
                )
            },
            evidence! { "port" => port, "default_port" => default },
        ))
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_DEFAULT_ADMIN: CheckDef = CheckDef {
    id: "rds_cluster_default_admin",
    title: "RDS DB cluster uses a custom master username",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "Checks that the cluster's master username is not one of \
                  `default_master_usernames` (case-insensitive; default admin, postgres, root, \
                  sa, master, administrator, rdsadmin, awsuser). An unreported username (e.g. a \
                  global database secondary) is not assessed.",
    rationale: "Default administrator names are the first ones tried in password-guessing \
                attacks; a custom name means an attacker must guess both halves.",
    remediation: "The master username cannot be changed after creation: create a new cluster \
                  with `aws rds create-db-cluster --master-username <custom>` and migrate. \
                  Meanwhile let RDS manage the master password (`aws rds modify-db-cluster \
                  --manage-master-user-password`) and keep applications off the master user.",
    cis: &[],
    fsbp: &["RDS.24"],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(default_admin),
};

fn default_admin(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |ctx, c| {
        let Some(user) = c.master_username.as_deref() else {
            return Err(Verdict::NotAssessed(msg!(
                "{} reports no master username",
                clu(c)
            )));
        };
        Ok(Verdict::pass_if(
            !is_default_username(ctx, user),
            || format!("{} uses a custom master username", clu(c)),
            || format!("{} uses the default master username `{user}`", clu(c)),
            evidence! { "master_username" => user },
        ))
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_BACKUP_PLAN: CheckDef = CheckDef {
    id: "rds_cluster_backup_plan",
    title: "RDS DB cluster is protected by an AWS Backup plan",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "Checks that the cluster ARN is among AWS Backup's protected resources \
                  (ListProtectedResources). Not assessed when protected resources were not \
                  collected.",
    rationale: "AWS Backup adds retention beyond 35 days, cross-account and cross-region \
                copies and vault lock, which automated backups alone do not provide.",
    remediation: "Add the cluster to a backup plan: `aws backup create-backup-selection \
                  --backup-plan-id <plan> --backup-selection \
                  '{\"SelectionName\":\"rds\",\"IamRoleArn\":\"<role-arn>\",\"Resources\":[\"<cluster-arn>\"]}'`.",
    cis: &[],
    fsbp: &["RDS.26"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        ops::BACKUP_LIST_PROTECTED_RESOURCES,
    ],
    run: Runner::Region(backup_plan),
};

fn backup_plan(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |ctx, c| {
        backup_protected(ctx, clu(c), &c.db_cluster_arn)
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_DEPRECATED_ENGINE_VERSION: CheckDef = CheckDef {
    id: "rds_cluster_deprecated_engine_version",
    title: "RDS DB cluster runs an engine version RDS still supports",
    severity: Severity::High,
    resource_type: "AwsRdsDbCluster",
    description: "Looks the cluster's engine version up in DescribeDBEngineVersions: FAIL when \
                  it is deprecated or no longer offered. Covers FSBP RDS.51 (global clusters on \
                  a supported Aurora MySQL version); the evidence names the global cluster. \
                  When no versions were collected for the engine, the cluster is not assessed.",
    rationale: "Deprecated versions stop receiving security fixes and are force-upgraded by \
                AWS on its schedule, not yours.",
    remediation: "List targets with `aws rds describe-db-engine-versions --engine <engine> \
                  --engine-version <version> --query 'DBEngineVersions[].ValidUpgradeTarget'` \
                  and upgrade with `aws rds modify-db-cluster --engine-version <target> \
                  [--allow-major-version-upgrade]` (global databases: `aws rds \
                  modify-global-cluster --engine-version <target>`).",
    cis: &[],
    fsbp: &["RDS.51"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS,
    ],
    run: Runner::Region(deprecated_engine_version),
};

fn deprecated_engine_version(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |ctx, c| {
        let mut v = engine_version_verdict(ctx, clu(c), &c.engine, &c.engine_version);
        if let (Verdict::Pass(_, ev) | Verdict::Fail(_, ev), Some(g)) =
            (&mut v, &c.global_cluster_identifier)
        {
            ev.insert("global_cluster_identifier".into(), g.clone().into());
        }
        Ok(v)
    })
}

// ---------------------------------------------------------------------------------------------

pub static RDS_CLUSTER_MASTER_PASSWORD_MANAGED: CheckDef = CheckDef {
    id: "rds_cluster_master_password_managed",
    title: "RDS DB cluster master password is managed in AWS Secrets Manager",
    severity: Severity::Low,
    resource_type: "AwsRdsDbCluster",
    description: "Checks ManageMasterUserPassword: RDS keeps the cluster's master password in \
                  Secrets Manager and rotates it. Aurora Serverless v1, which does not support \
                  it, is not applicable.",
    rationale: "A master password chosen by a person tends to be reused, shared and never \
                rotated; a managed secret is random, rotated, access-controlled by IAM and \
                audited in CloudTrail.",
    remediation: "`aws rds modify-db-cluster --db-cluster-identifier <id> \
                  --manage-master-user-password [--master-user-secret-kms-key-id <cmk-arn>] \
                  --apply-immediately`; point applications at the secret.",
    cis: &[],
    fsbp: &[],
    depends_on: CLUSTER_LISTING,
    run: Runner::Region(master_password_managed),
};

fn master_password_managed(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    each_cluster(ctx, em, |_, c| {
        if is_serverless_v1(c) {
            return Err(Verdict::NotApplicable(msg!(
                "{} is Aurora Serverless v1, which cannot have a managed master password",
                clu(c)
            )));
        }
        Ok(Verdict::pass_if(
            c.manage_master_user_password,
            || format!("{}'s master password is managed in Secrets Manager", clu(c)),
            || {
                format!(
                    "{}'s master password is not managed by RDS in Secrets Manager",
                    clu(c)
                )
            },
            evidence! { "manage_master_user_password" => c.manage_master_user_password },
        ))
    })
}

#[cfg(test)]
mod tests {
    use rdsguard_findings::{Finding, Status};
    use rdsguard_model::{EngineVersion, RegionSnapshot};

    use super::super::instance::fixtures::*;
    use super::*;
    use crate::Config;
    use crate::testkit::{region, run, run_with, snapshot, status_of};

    fn findings(def: &CheckDef, r: RegionSnapshot) -> Vec<Finding> {
        run(def, &snapshot(r, None))
    }

    fn with(r: &mut RegionSnapshot, c: DbCluster) {
        r.rds.db_clusters.push(c);
    }

    #[test]
    fn every_cluster_check_is_not_assessed_when_the_listing_failed() {
        for def in CHECKS {
            let mut r = region();
            with(&mut r, cluster("c", "aurora-mysql", &[]));
            r.gaps.push(listing_gap(ops::RDS_DESCRIBE_DB_CLUSTERS));
            let f = findings(def, r);
            assert_eq!(f.len(), 1, "{}", def.id);
            assert_eq!(f[0].status, Status::NotAssessed, "{}", def.id);
            assert!(f[0].message.contains("DescribeDBClusters"));
        }
    }

    #[test]
    fn every_cluster_check_skips_neptune_and_documentdb() {
        for def in CHECKS {
            let mut r = region();
            with(&mut r, cluster("graph", "neptune", &[]));
            with(&mut r, cluster("docs", "docdb", &[]));
            r.backup.protected_resource_arns = Some(vec![]);
            let f = findings(def, r);
            assert_eq!(status_of(&f, "graph"), Status::NotApplicable, "{}", def.id);
            assert_eq!(status_of(&f, "docs"), Status::NotApplicable, "{}", def.id);
        }
    }

    #[test]
    fn metadata_is_complete() {
        for def in CHECKS {
            assert!(def.id.starts_with("rds_cluster_"), "{}", def.id);
            assert_eq!(def.resource_type, "AwsRdsDbCluster");
            assert!(
                def.description.len() > 40 && def.rationale.len() > 40,
                "{}",
                def.id
            );
            assert!(def.remediation.contains("aws "), "{}", def.id);
            assert!(def.depends_on.contains(&ops::RDS_DESCRIBE_DB_CLUSTERS));
        }
    }

    /// For boolean flags: one cluster with the flag, one without.
    fn flag_case(def: &CheckDef, set: fn(&mut DbCluster)) {
        let mut r = region();
        let mut on = cluster("on", "aurora-postgresql", &[]);
        set(&mut on);
        with(&mut r, on);
        with(&mut r, cluster("off", "aurora-postgresql", &[]));
        let f = findings(def, r);
        assert_eq!(status_of(&f, "on"), Status::Pass, "{}", def.id);
        assert_eq!(status_of(&f, "off"), Status::Fail, "{}", def.id);
    }

    #[test]
    fn boolean_flags() {
        flag_case(&RDS_CLUSTER_STORAGE_ENCRYPTED, |c| {
            c.storage_encrypted = true
        });
        flag_case(&RDS_CLUSTER_DELETION_PROTECTION, |c| {
            c.deletion_protection = true
        });
        flag_case(&RDS_CLUSTER_IAM_AUTHENTICATION, |c| {
            c.iam_database_authentication_enabled = true
        });
        flag_case(&RDS_CLUSTER_COPY_TAGS_TO_SNAPSHOTS, |c| {
            c.copy_tags_to_snapshot = true
        });
        flag_case(&RDS_CLUSTER_MASTER_PASSWORD_MANAGED, |c| {
            c.manage_master_user_password = true
        });
    }

    fn placed(id: &str, cluster: &str, az: Option<&str>) -> rdsguard_model::DbInstance {
        let mut m = member(id, "aurora-mysql", cluster);
        m.availability_zone = az.map(str::to_string);
        m
    }

    #[test]
    fn multi_az_from_flag_or_member_azs() {
        let mut r = region();
        let mut flagged = cluster("flagged", "aurora-mysql", &["f1"]);
        flagged.multi_az = true;
        with(&mut r, flagged);
        r.rds
            .db_instances
            .push(placed("f1", "flagged", Some("us-east-1a")));
        // Flag false but members in two AZs: pass, explained in evidence.
        with(&mut r, cluster("spread", "aurora-mysql", &["s1", "s2"]));
        r.rds
            .db_instances
            .push(placed("s1", "spread", Some("us-east-1a")));
        r.rds
            .db_instances
            .push(placed("s2", "spread", Some("us-east-1b")));
        with(&mut r, cluster("single", "aurora-mysql", &["o1", "o2"]));
        r.rds
            .db_instances
            .push(placed("o1", "single", Some("us-east-1a")));
        r.rds
            .db_instances
            .push(placed("o2", "single", Some("us-east-1a")));
        with(&mut r, cluster("empty", "aurora-mysql", &[]));
        with(
            &mut r,
            cluster("partial", "aurora-mysql", &["p1", "missing"]),
        );
        r.rds
            .db_instances
            .push(placed("p1", "partial", Some("us-east-1a")));
        // A member whose own record does not name the cluster still counts.
        with(&mut r, cluster("loose", "aurora-mysql", &["l1", "l2"]));
        let mut l1 = placed("l1", "loose", Some("us-east-1a"));
        l1.db_cluster_identifier = None;
        r.rds.db_instances.push(l1);
        r.rds
            .db_instances
            .push(placed("l2", "loose", Some("us-east-1b")));
        let mut v1 = cluster("v1", "aurora-mysql", &[]);
        v1.engine_mode = Some("serverless".into());
        with(&mut r, v1);
        let mut maz = cluster("maz", "postgres", &[]);
        maz.multi_az = true;
        with(&mut r, maz);
        let f = findings(&RDS_CLUSTER_MULTI_AZ, r);
        assert_eq!(status_of(&f, "loose"), Status::Pass);
        assert_eq!(status_of(&f, "flagged"), Status::Pass);
        assert_eq!(status_of(&f, "spread"), Status::Pass);
        assert_eq!(status_of(&f, "single"), Status::Fail);
        assert_eq!(status_of(&f, "empty"), Status::Fail);
        assert_eq!(status_of(&f, "partial"), Status::NotAssessed);
        assert_eq!(status_of(&f, "v1"), Status::NotApplicable);
        assert_eq!(status_of(&f, "maz"), Status::Pass);
        let spread = f.iter().find(|f| f.resource.id == "spread").unwrap();
        assert_eq!(
            spread.evidence["member_availability_zones"],
            serde_json::json!(["us-east-1a", "us-east-1b"])
        );
    }

    #[test]
    fn iam_authentication_not_applicable_cases() {
        let mut r = region();
        let mut v1 = cluster("v1", "aurora-postgresql", &[]);
        v1.engine_mode = Some("serverless".into());
        with(&mut r, v1);
        with(&mut r, cluster("maz", "mysql", &[]));
        let f = findings(&RDS_CLUSTER_IAM_AUTHENTICATION, r);
        assert_eq!(status_of(&f, "v1"), Status::NotApplicable);
        assert_eq!(status_of(&f, "maz"), Status::Fail);
    }

    #[test]
    fn backup_retention_threshold() {
        let mut r = region();
        for (id, days) in [("one", 1), ("week", 7), ("month", 30)] {
            let mut c = cluster(id, "aurora-mysql", &[]);
            c.backup_retention_period = days;
            with(&mut r, c);
        }
        let snap = snapshot(r, None);
        let f = run(&RDS_CLUSTER_BACKUP_RETENTION, &snap);
        assert_eq!(status_of(&f, "one"), Status::Fail);
        assert_eq!(status_of(&f, "week"), Status::Pass);
        assert_eq!(status_of(&f, "month"), Status::Pass);
        let strict = Config {
            min_backup_retention_days: 14,
            ..Config::default()
        };
        let f = run_with(&RDS_CLUSTER_BACKUP_RETENTION, &snap, &strict);
        assert_eq!(status_of(&f, "week"), Status::Fail);
        assert_eq!(status_of(&f, "month"), Status::Pass);
    }

    #[test]
    fn copy_tags_names_the_fsbp_control() {
        let mut r = region();
        with(&mut r, cluster("pg", "postgres", &[]));
        with(&mut r, cluster("my", "mysql", &[]));
        with(&mut r, cluster("au", "aurora-mysql", &[]));
        let f = findings(&RDS_CLUSTER_COPY_TAGS_TO_SNAPSHOTS, r);
        let control = |id: &str| {
            f.iter().find(|f| f.resource.id == id).unwrap().evidence["fsbp_control"].clone()
        };
        assert_eq!(control("pg"), "RDS.47");
        assert_eq!(control("my"), "RDS.48");
        assert_eq!(control("au"), "RDS.16");
    }

    #[test]
    fn backtrack_cases() {
        let mut r = region();
        let mut on = cluster("on", "aurora-mysql", &[]);
        on.backtrack_window = Some(86400);
        with(&mut r, on);
        with(&mut r, cluster("off", "aurora-mysql", &[]));
        with(&mut r, cluster("pg", "aurora-postgresql", &[]));
        let mut v1 = cluster("v1", "aurora-mysql", &[]);
        v1.engine_mode = Some("serverless".into());
        with(&mut r, v1);
        let mut global = cluster("global", "aurora-mysql", &[]);
        global.global_cluster_identifier = Some("g".into());
        with(&mut r, global);
        let f = findings(&RDS_CLUSTER_BACKTRACK, r);
        assert_eq!(status_of(&f, "on"), Status::Pass);
        assert_eq!(status_of(&f, "off"), Status::Fail);
        assert_eq!(status_of(&f, "pg"), Status::NotApplicable);
        assert_eq!(status_of(&f, "v1"), Status::NotApplicable);
        assert_eq!(status_of(&f, "global"), Status::NotApplicable);
    }

    #[test]
    fn auto_minor_version_upgrade_only_for_multi_az_db_clusters() {
        let mut r = region();
        for (id, flag) in [("on", Some(true)), ("off", Some(false)), ("unknown", None)] {
            let mut c = cluster(id, "postgres", &[]);
            c.auto_minor_version_upgrade = flag;
            with(&mut r, c);
        }
        with(&mut r, cluster("aurora", "aurora-postgresql", &[]));
        let f = findings(&RDS_CLUSTER_AUTO_MINOR_VERSION_UPGRADE, r);
        assert_eq!(status_of(&f, "on"), Status::Pass);
        assert_eq!(status_of(&f, "off"), Status::Fail);
        assert_eq!(status_of(&f, "unknown"), Status::NotAssessed);
        assert_eq!(status_of(&f, "aurora"), Status::NotApplicable);
    }

    #[test]
    fn default_port_cases() {
        let mut r = region();
        for (id, engine, port) in [
            ("default", "aurora-postgresql", Some(5432)),
            ("custom", "aurora-mysql", Some(3307)),
            ("unknown", "aurora-mysql", None),
            ("odd", "something-new", Some(1)),
        ] {
            let mut c = cluster(id, engine, &[]);
            c.port = port;
            with(&mut r, c);
        }
        let f = findings(&RDS_CLUSTER_DEFAULT_PORT, r);
        assert_eq!(status_of(&f, "default"), Status::Fail);
        assert_eq!(status_of(&f, "custom"), Status::Pass);
        assert_eq!(status_of(&f, "unknown"), Status::NotAssessed);
        assert_eq!(status_of(&f, "odd"), Status::NotApplicable);
    }

    #[test]
    fn default_admin_cases() {
        let mut r = region();
        for (id, user) in [
            ("admin", Some("ADMIN")),
            ("custom", Some("owner")),
            ("unknown", None),
        ] {
            let mut c = cluster(id, "aurora-mysql", &[]);
            c.master_username = user.map(str::to_string);
            with(&mut r, c);
        }
        let snap = snapshot(r, None);
        let f = run(&RDS_CLUSTER_DEFAULT_ADMIN, &snap);
        assert_eq!(status_of(&f, "admin"), Status::Fail);
        assert_eq!(status_of(&f, "custom"), Status::Pass);
        assert_eq!(status_of(&f, "unknown"), Status::NotAssessed);
        let cfg = Config {
            default_master_usernames: vec!["owner".into()],
            ..Config::default()
        };
        let f = run_with(&RDS_CLUSTER_DEFAULT_ADMIN, &snap, &cfg);
        assert_eq!(status_of(&f, "admin"), Status::Pass);
        assert_eq!(status_of(&f, "custom"), Status::Fail);
    }

    #[test]
    fn backup_plan_cases() {
        let mut r = region();
        let covered = cluster("covered", "aurora-mysql", &[]);
        r.backup.protected_resource_arns = Some(vec![covered.db_cluster_arn.clone()]);
        with(&mut r, covered);
        with(&mut r, cluster("bare", "aurora-mysql", &[]));
        let f = findings(&RDS_CLUSTER_BACKUP_PLAN, r.clone());
        assert_eq!(status_of(&f, "covered"), Status::Pass);
        assert_eq!(status_of(&f, "bare"), Status::Fail);
        r.backup.protected_resource_arns = None;
        let f = findings(&RDS_CLUSTER_BACKUP_PLAN, r);
        assert_eq!(status_of(&f, "bare"), Status::NotAssessed);
    }

    #[test]
    fn deprecated_engine_version_cases() {
        let mut r = region();
        for (id, engine, v) in [
            ("ok", "aurora-mysql", "8.0.mysql_aurora.3.05.2"),
            ("old", "aurora-mysql", "5.7.mysql_aurora.2.07.2"),
            ("pg", "aurora-postgresql", "15.4"),
        ] {
            let mut c = cluster(id, engine, &[]);
            c.engine_version = v.into();
            with(&mut r, c);
        }
        let mut global = cluster("global", "aurora-mysql", &[]);
        global.engine_version = "5.7.mysql_aurora.2.07.2".into();
        global.global_cluster_identifier = Some("gdb".into());
        with(&mut r, global);
        r.rds.engine_versions = vec![EngineVersion {
            engine: "aurora-mysql".into(),
            engine_version: "8.0.mysql_aurora.3.05.2".into(),
            status: Some("available".into()),
        }];
        let f = findings(&RDS_CLUSTER_DEPRECATED_ENGINE_VERSION, r);
        assert_eq!(status_of(&f, "ok"), Status::Pass);
        assert_eq!(status_of(&f, "old"), Status::Fail);
        assert_eq!(status_of(&f, "pg"), Status::NotAssessed);
        assert_eq!(status_of(&f, "global"), Status::Fail);
        let g = f.iter().find(|f| f.resource.id == "global").unwrap();
        assert_eq!(g.evidence["global_cluster_identifier"], "gdb");
    }

    #[test]
    fn master_password_not_applicable_on_serverless_v1() {
        let mut r = region();
        let mut v1 = cluster("v1", "aurora-mysql", &[]);
        v1.engine_mode = Some("serverless".into());
        with(&mut r, v1);
        let f = findings(&RDS_CLUSTER_MASTER_PASSWORD_MANAGED, r);
        assert_eq!(status_of(&f, "v1"), Status::NotApplicable);
    }
}

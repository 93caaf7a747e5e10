//! DB instance posture checks (FSBP RDS.3, 5, 6, 8, 10, 11, 13, 17, 18, 23, 25, 26; CIS 2.2.x),
//! plus the helpers every core check shares: [`Verdict`], cluster-member resolution, engine
//! version lookups and AWS Backup coverage.
//!
//! Cluster members (Aurora and Multi-AZ DB clusters) keep many settings on their cluster; an
//! instance check that read the member's own field would report false results (Prowler #1459,
//! #2275, #5434). Here each setting is read where AWS applies it, and a member whose cluster is
//! not in the snapshot is NOT_ASSESSED, never PASS.

use std::borrow::Cow;
use std::rc::Rc;

use rdsguard_findings::Severity;
use rdsguard_model::{DbCluster, DbInstance, RegionSnapshot, ops};

use super::common::{
    Described, EngineFamily, gap_in, instance_engines, instance_family, instance_resource,
    non_rds_service,
};
use super::lookups::RegionLookups;

use crate::engine::{CheckDef, Emitter, RegionCtx, Runner, SharedResource};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[
    &RDS_INSTANCE_STORAGE_ENCRYPTED,
    &RDS_INSTANCE_MULTI_AZ,
    &RDS_INSTANCE_ENHANCED_MONITORING,
    &RDS_INSTANCE_DELETION_PROTECTION,
    &RDS_INSTANCE_IAM_AUTHENTICATION,
    &RDS_INSTANCE_BACKUP_RETENTION,
    &RDS_INSTANCE_AUTO_MINOR_VERSION_UPGRADE,
    &RDS_INSTANCE_COPY_TAGS_TO_SNAPSHOTS,
    &RDS_INSTANCE_IN_VPC,
    &RDS_INSTANCE_DEFAULT_PORT,
    &RDS_INSTANCE_DEFAULT_ADMIN,
    &RDS_INSTANCE_DEPRECATED_ENGINE_VERSION,
    &RDS_INSTANCE_EXTENDED_SUPPORT,
    &RDS_INSTANCE_BACKUP_PLAN,
    &RDS_INSTANCE_MASTER_PASSWORD_MANAGED,
];

// ---------------------------------------------------------------------------------------------
// Shared by the core checks (instance, cluster, snapshot, events, tagging).
// ---------------------------------------------------------------------------------------------

pub(crate) use super::tls::verdict::Verdict;

/// A judgement that may stop early: `Err` carries a NOT_APPLICABLE or NOT_ASSESSED verdict
/// reached before the setting itself could be read (missing cluster, unsupported engine).
pub(crate) type Judgement = Result<Verdict, Verdict>;

/// `DescribeDBInstances` / `DescribeDBClusters` also return Amazon Neptune and Amazon
/// DocumentDB resources; RDS controls do not apply to them.
pub(crate) fn not_rds(kind: &str, id: &str, engine: &str) -> Option<Verdict> {
    let service = non_rds_service(engine)?;
    Some(Verdict::NotApplicable(msg!(
        "{kind} {id} runs {service} (engine {engine}), not an RDS database engine"
    )))
}

/// A per-instance check: its verdict on one DB instance of the context's region
/// ([`Runner::Instances`]).
#[derive(Clone, Copy)]
pub struct InstanceJudge(JudgeFn);

#[derive(Clone, Copy)]
enum JudgeFn {
    /// RDS engines only: instances of other services (Neptune, DocumentDB) are NOT_APPLICABLE
    /// without judging.
    Rds(fn(&RegionCtx<'_>, &Clusters<'_>, &DbInstance) -> Judgement),
    /// Every instance, whatever its engine.
    Any(fn(&RegionCtx<'_>, &DbInstance) -> Verdict),
}

impl InstanceJudge {
    /// A judge of RDS engines' instances.
    pub(crate) const fn rds(
        judge: fn(&RegionCtx<'_>, &Clusters<'_>, &DbInstance) -> Judgement,
    ) -> Self {
        InstanceJudge(JudgeFn::Rds(judge))
    }

    /// A judge of every instance.
    pub(crate) const fn any(judge: fn(&RegionCtx<'_>, &DbInstance) -> Verdict) -> Self {
        InstanceJudge(JudgeFn::Any(judge))
    }
}

/// Run each judge on every RDS DB instance of the region and emit its verdict into the
/// judge's emitter, a few instances at a time ([`JUDGED_TOGETHER`]): every judge over the
/// chunk, then the next chunk. The chunk's instances (and their shared references) stay in
/// the data caches across the judges, and each judge's code in the instruction cache across
/// the chunk (judged instance by instance, every judge's code would be fetched again for each
/// instance). Each emitter still gets its results in instance order.
pub(crate) fn each_instance_of(
    ctx: &RegionCtx<'_>,
    judges: &mut [(InstanceJudge, &mut Emitter<'_>)],
) {
    let clusters = Clusters::of(ctx);
    let engines = instance_engines(ctx);
    let mut resources: Vec<Option<SharedResource>> = Vec::with_capacity(JUDGED_TOGETHER);
    for (c, chunk) in ctx
        .region
        .rds
        .db_instances
        .chunks(JUDGED_TOGETHER)
        .enumerate()
    {
        resources.clear();
        resources.resize(chunk.len(), None);
        for (judge, em) in judges.iter_mut() {
            for ((j, db), resource) in chunk.iter().enumerate().zip(resources.iter_mut()) {
                if em.skip_unwanted() {
                    continue;
                }
                let verdict = match judge.0 {
                    JudgeFn::Any(judge) => judge(ctx, db),
                    JudgeFn::Rds(judge) => {
                        let rds = engines.rds.get(c * JUDGED_TOGETHER + j) == Some(&true);
                        let other = if rds {
                            None
                        } else {
                            not_rds("DB instance", &db.db_instance_identifier, &db.engine)
                        };
                        match other {
                            Some(v) => v,
                            None => judge(ctx, &clusters, db).unwrap_or_else(|early| early),
                        }
                    }
                };
                verdict.emit(
                    em,
                    *resource.get_or_insert_with(|| instance_resource(ctx, db)),
                );
            }
        }
    }
}

/// How many items (instances, snapshots) every judge of a batch judges in turn before the next
/// judge does: enough to keep each judge's code in the instruction cache for a while, few
/// enough for the items to stay in the data caches meanwhile.
pub(crate) const JUDGED_TOGETHER: usize = 64;

/// The region's clusters by identifier (the region's shared lookup tables), so that resolving
/// members stays linear in the number of instances.
pub(crate) struct Clusters<'a> {
    region: &'a RegionSnapshot,
    lookups: Rc<RegionLookups>,
}

impl<'a> Clusters<'a> {
    pub(crate) fn of(ctx: &RegionCtx<'a>) -> Self {
        Clusters {
            region: ctx.region,
            lookups: RegionLookups::of(ctx),
        }
    }

    /// The cluster holding a member's cluster-level settings: `Ok(None)` for a standalone
    /// instance, NOT_ASSESSED when the member's cluster is not in the snapshot.
    // Inlined: asked by most instance checks for every instance, most of which belong to no
    // cluster.
    #[inline(always)]
    pub(crate) fn owning(&self, db: &DbInstance) -> Result<Option<&'a DbCluster>, Verdict> {
        let Some(cluster_id) = db.db_cluster_identifier.as_deref() else {
            return Ok(None);
        };
        self.member_of(db, cluster_id)
    }

    /// [`owning`](Self::owning) for a member of `cluster_id`.
    fn member_of(
        &self,
        db: &DbInstance,
        cluster_id: &str,
    ) -> Result<Option<&'a DbCluster>, Verdict> {
        if let Some(c) = self.lookups.cluster(self.region, cluster_id) {
            return Ok(Some(c));
        }
        let why = self
            .lookups
            .gap(self.region, ops::RDS_DESCRIBE_DB_CLUSTERS, Some(cluster_id))
            .map(|g| g.describe())
            .unwrap_or_else(|| "it is not in the snapshot".to_string());
        Err(Verdict::NotAssessed(msg!(
            "DB instance {} is a member of DB cluster {cluster_id}, whose settings are unknown: \
             {why}",
            db.db_instance_identifier
        )))
    }
}

/// Where a member's setting was read, for evidence.
pub(crate) fn judged_by(cluster: Option<&DbCluster>) -> Cow<'static, str> {
    match cluster {
        // Concatenated, not formatted: one per cluster member and check (`format!` pads).
        Some(c) => Cow::Owned(["cluster ", &c.db_cluster_identifier].concat()),
        None => Cow::Borrowed("instance"),
    }
}

/// Whether the engine version is one RDS still offers (`DescribeDBEngineVersions`).
/// FAIL when the version is deprecated or no longer offered; NOT_ASSESSED when no versions were
/// collected for the engine (the collector asks only for engines in use, and an endpoint may not
/// implement the call).
pub(crate) fn engine_version_verdict(
    ctx: &RegionCtx<'_>,
    what: Described<'_>,
    engine: &str,
    version: &str,
) -> Verdict {
    let lookups = RegionLookups::of(ctx);
    let offered = lookups.engine_versions(ctx.region, engine);
    if offered.is_empty() {
        let why = gap_in(ctx, ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS, Some(engine))
            .map(|g| g.describe())
            .unwrap_or_else(|| format!("no engine versions were collected for engine {engine}"));
        return Verdict::NotAssessed(msg!(
            "{what} runs {engine} {version}, whose support status is unknown: {why}"
        ));
    }
    let found = offered.find(version);
    let status = found.and_then(|v| v.status.as_deref());
    let ev = evidence! {
        "engine" => engine,
        "engine_version" => version,
        "version_status" => status,
        "versions_offered" => offered.len(),
    };
    match found {
        None => Verdict::Fail(
            msg!(
                "{what} runs {engine} {version}, which RDS no longer offers in this region \
                 (not among the {} versions DescribeDBEngineVersions lists)",
                offered.len()
            ),
            ev,
        ),
        Some(v) if v.status.as_deref() == Some("deprecated") => Verdict::Fail(
            msg!("{what} runs {engine} {version}, which RDS has deprecated"),
            ev,
        ),
        // DescribeDBEngineVersions lists only available versions unless IncludeAll is set, so
        // a listed version without a status is available.
        Some(_) => Verdict::Pass(
            msg!("{what} runs {engine} {version}, a version RDS still offers"),
            ev,
        ),
    }
}

/// Whether AWS Backup protects `arn` (FSBP RDS.26). `Err` (NOT_ASSESSED) when the protected
/// resources were not collected.
pub(crate) fn backup_protected(ctx: &RegionCtx<'_>, what: Described<'_>, arn: &str) -> Judgement {
    let region = ctx.region;
    let (Some(protected), Some(ok)) = (
        region.backup.protected_resource_arns.as_ref(),
        RegionLookups::of(ctx).backup_protects(region, arn),
    ) else {
        let why = gap_in(ctx, ops::BACKUP_LIST_PROTECTED_RESOURCES, Some(arn))
            .map(|g| g.describe())
            .unwrap_or_else(|| "AWS Backup protected resources were not collected".to_string());
        return Err(Verdict::NotAssessed(msg!(
            "cannot tell whether a backup plan protects {what}: {why}"
        )));
    };
    Ok(Verdict::pass_if(
        ok,
        || format!("{what} is protected by AWS Backup"),
        || {
            format!(
                "{what} is not protected by any AWS Backup plan (no recovery point in AWS Backup)"
            )
        },
        evidence! { "arn" => arn, "protected_by_aws_backup" => ok, "protected_resources" => protected.len() },
    ))
}

/// Whether `username` is one of the configured default master usernames (case-insensitive).
pub(crate) fn is_default_username(ctx: &RegionCtx<'_>, username: &str) -> bool {
    ctx.config
        .default_master_usernames
        .iter()
        .any(|d| d.eq_ignore_ascii_case(username))
}

/// Short description of an instance for messages, written straight into them (no string of
/// its own: it is in most messages of the most numerous findings).
fn inst(db: &DbInstance) -> Described<'_> {
    Described("DB instance", &db.db_instance_identifier)
}

const INSTANCE_AND_CLUSTER_LISTINGS: &[rdsguard_model::Op] = &[
    ops::RDS_DESCRIBE_DB_INSTANCES,
    ops::RDS_DESCRIBE_DB_CLUSTERS,
];

// ---------------------------------------------------------------------------------------------
// RDS.3 storage encryption
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_STORAGE_ENCRYPTED: CheckDef = CheckDef {
    id: "rds_instance_storage_encrypted",
    title: "RDS DB instance storage is encrypted at rest",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Checks StorageEncrypted on every DB instance. Aurora and Multi-AZ DB cluster \
                  members are judged by their cluster's StorageEncrypted; a member whose cluster \
                  is not in the snapshot is not assessed.",
    rationale: "Unencrypted storage, backups, replicas and snapshots expose data to anyone who \
                obtains the underlying volumes or a shared snapshot.",
    remediation: "Encryption cannot be enabled in place: snapshot the instance \
                  (`aws rds create-db-snapshot`), copy the snapshot with a customer managed KMS \
                  key (`aws rds copy-db-snapshot --kms-key-id <cmk-arn>`), restore from the \
                  encrypted copy (`aws rds restore-db-instance-from-db-snapshot`) and cut over; \
                  or `rdsguard fix --check rds_instance_storage_encrypted`. Cluster members: \
                  encrypt the cluster (see rds_cluster_storage_encrypted).",
    cis: &["v1.4.0/2.3.1", "v3.0.0/2.3.1", "v5.0.0/2.2.1"],
    fsbp: &["RDS.3"],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(storage_encrypted)),
};

fn storage_encrypted(_: &RegionCtx<'_>, clusters: &Clusters<'_>, db: &DbInstance) -> Judgement {
    let cluster = clusters.owning(db)?;
    let (encrypted, key) = match cluster {
        Some(c) => (c.storage_encrypted, c.kms_key_id.as_deref()),
        None => (db.storage_encrypted, db.kms_key_id.as_deref()),
    };
    Ok(Verdict::pass_if(
        encrypted,
        || format!("{} is encrypted at rest", inst(db)),
        || format!("{} is not encrypted at rest", inst(db)),
        evidence! {
            "storage_encrypted" => encrypted,
            "kms_key_id" => key,
            "judged_by" => judged_by(cluster),
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS.5 Multi-AZ
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_MULTI_AZ: CheckDef = CheckDef {
    id: "rds_instance_multi_az",
    title: "RDS DB instance is deployed in multiple Availability Zones",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Checks MultiAZ on standalone DB instances. Aurora and Multi-AZ DB cluster \
                  members are not applicable: availability is a cluster property, judged by \
                  rds_cluster_multi_az (a per-member flag gave false failures in Prowler #1459). \
                  Read replicas are not applicable: a replica adds redundancy to its source, \
                  which is checked itself.",
    rationale: "A single-AZ instance is unavailable for the whole duration of an AZ outage or a \
                host failure, and maintenance causes downtime instead of a failover.",
    remediation: "`aws rds modify-db-instance --db-instance-identifier <id> --multi-az \
                  --apply-immediately` (console: Modify, Availability and durability, Create a \
                  standby instance). The conversion takes a snapshot; expect higher I/O latency \
                  while it runs.",
    cis: &["v5.0.0/2.2.4"],
    fsbp: &["RDS.5"],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Instances(InstanceJudge::rds(multi_az)),
};

fn multi_az(_: &RegionCtx<'_>, _: &Clusters<'_>, db: &DbInstance) -> Judgement {
    if let Some(c) = &db.db_cluster_identifier {
        return Err(Verdict::NotApplicable(msg!(
            "{} is a member of DB cluster {c}; availability is judged on the cluster by \
             rds_cluster_multi_az",
            inst(db)
        )));
    }
    if db.is_read_replica() {
        return Err(Verdict::NotApplicable(msg!(
            "{} is a read replica; Multi-AZ is judged on its source",
            inst(db)
        )));
    }
    Ok(Verdict::pass_if(
        db.multi_az,
        || format!("{} is Multi-AZ", inst(db)),
        || {
            format!(
                "{} runs in a single Availability Zone ({})",
                inst(db),
                db.availability_zone.as_deref().unwrap_or("unknown AZ")
            )
        },
        evidence! { "multi_az" => db.multi_az, "availability_zone" => db.availability_zone },
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS.6 Enhanced Monitoring
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_ENHANCED_MONITORING: CheckDef = CheckDef {
    id: "rds_instance_enhanced_monitoring",
    title: "RDS DB instance has Enhanced Monitoring enabled",
    severity: Severity::Low,
    resource_type: "AwsRdsDbInstance",
    description: "Checks that MonitoringInterval is greater than 0 and at most \
                  `max_monitoring_interval_seconds` (default 60). Members of Multi-AZ DB \
                  clusters that report no interval are judged by the cluster's interval.",
    rationale: "Enhanced Monitoring gives OS-level metrics (processes, memory, file system) \
                needed to investigate incidents and resource exhaustion.",
    remediation: "`aws rds modify-db-instance --db-instance-identifier <id> \
                  --monitoring-interval 60 --monitoring-role-arn <role-arn>` (the role needs \
                  AmazonRDSEnhancedMonitoringRole; console: Modify, Monitoring, Enable Enhanced \
                  monitoring).",
    cis: &[],
    fsbp: &["RDS.6"],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(enhanced_monitoring)),
};

fn enhanced_monitoring(ctx: &RegionCtx<'_>, clusters: &Clusters<'_>, db: &DbInstance) -> Judgement {
    let max = ctx.config.max_monitoring_interval_seconds;
    let mut source = judged_by(None);
    let mut interval = db.monitoring_interval;
    // Multi-AZ DB clusters configure monitoring on the cluster.
    if interval.is_none()
        && db.is_cluster_member()
        && let Some(c) = clusters.owning(db)?.filter(|c| !c.is_aurora())
    {
        interval = c.monitoring_interval;
        source = judged_by(Some(c));
    }
    let seconds = interval.unwrap_or(0);
    let ev = evidence! {
        "monitoring_interval" => seconds,
        "max_monitoring_interval_seconds" => max,
        "enhanced_monitoring_resource_arn" => db.enhanced_monitoring_resource_arn,
        "judged_by" => source,
    };
    Ok(if seconds <= 0 {
        Verdict::Fail(msg!("{} has Enhanced Monitoring off", inst(db)), ev)
    } else {
        Verdict::pass_if(
            seconds <= max,
            || format!("{} has Enhanced Monitoring every {seconds}s", inst(db)),
            || {
                format!(
                    "{} has Enhanced Monitoring every {seconds}s, coarser than the {max}s allowed",
                    inst(db)
                )
            },
            ev,
        )
    })
}

// ---------------------------------------------------------------------------------------------
// RDS.8 deletion protection
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_DELETION_PROTECTION: CheckDef = CheckDef {
    id: "rds_instance_deletion_protection",
    title: "RDS DB instance has deletion protection enabled",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Checks DeletionProtection on standalone instances; Aurora and Multi-AZ DB \
                  cluster members are judged by their cluster's DeletionProtection, which is \
                  what prevents deleting the database (Prowler #2275).",
    rationale: "Deletion protection stops an accidental or malicious DeleteDBInstance, which \
                would otherwise destroy the database and, unless retained, its automated \
                backups.",
    remediation: "`aws rds modify-db-instance --db-instance-identifier <id> \
                  --deletion-protection --apply-immediately`; cluster members: `aws rds \
                  modify-db-cluster --db-cluster-identifier <cluster> --deletion-protection` \
                  (or `rdsguard fix --check rds_instance_deletion_protection`).",
    cis: &[],
    fsbp: &["RDS.8"],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(deletion_protection)),
};

fn deletion_protection(_: &RegionCtx<'_>, clusters: &Clusters<'_>, db: &DbInstance) -> Judgement {
    let cluster = clusters.owning(db)?;
    let on = cluster.map_or(db.deletion_protection, |c| c.deletion_protection);
    Ok(Verdict::pass_if(
        on,
        || format!("{} is protected from deletion", inst(db)),
        || format!("{} can be deleted: deletion protection is off", inst(db)),
        evidence! { "deletion_protection" => on, "judged_by" => judged_by(cluster) },
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS.10 IAM database authentication
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_IAM_AUTHENTICATION: CheckDef = CheckDef {
    id: "rds_instance_iam_authentication",
    title: "RDS DB instance has IAM database authentication enabled",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Checks IAMDatabaseAuthenticationEnabled on MySQL, MariaDB and PostgreSQL \
                  instances. Aurora and Multi-AZ DB cluster members are judged by their \
                  cluster's setting. Engines without IAM authentication (Oracle, SQL Server, \
                  Db2) are not applicable.",
    rationale: "IAM authentication replaces long-lived database passwords with 15-minute \
                tokens issued to IAM principals, so access is granted, audited and revoked in \
                IAM.",
    remediation: "`aws rds modify-db-instance --db-instance-identifier <id> \
                  --enable-iam-database-authentication --apply-immediately` (cluster members: \
                  `aws rds modify-db-cluster --enable-iam-database-authentication`), then grant \
                  `rds-db:connect` and create the database user with the engine's IAM plugin \
                  or role.",
    cis: &[],
    fsbp: &["RDS.10"],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(iam_authentication)),
};

fn iam_authentication(ctx: &RegionCtx<'_>, clusters: &Clusters<'_>, db: &DbInstance) -> Judgement {
    let family = instance_family(ctx, db);
    let supported = matches!(
        family,
        EngineFamily::MySql
            | EngineFamily::MariaDb
            | EngineFamily::Postgres
            | EngineFamily::AuroraMySql
            | EngineFamily::AuroraPostgres
    );
    if !supported {
        return Err(Verdict::NotApplicable(msg!(
            "{} runs {}, which does not support IAM database authentication",
            inst(db),
            db.engine
        )));
    }
    let cluster = clusters.owning(db)?;
    let on = cluster.map_or(db.iam_database_authentication_enabled, |c| {
        c.iam_database_authentication_enabled
    });
    Ok(Verdict::pass_if(
        on,
        || format!("{} accepts IAM database authentication", inst(db)),
        || format!("{} has IAM database authentication off", inst(db)),
        evidence! {
            "iam_database_authentication_enabled" => on,
            "engine" => db.engine,
            "judged_by" => judged_by(cluster),
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS.11 automated backups
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_BACKUP_RETENTION: CheckDef = CheckDef {
    id: "rds_instance_backup_retention",
    title: "RDS DB instance keeps automated backups long enough",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Checks that BackupRetentionPeriod is at least `min_backup_retention_days` \
                  (default 7; 0 means automated backups are off). Aurora and Multi-AZ DB \
                  cluster members are judged by their cluster's retention. Read replicas are \
                  not applicable: their data is backed up on the source.",
    rationale: "Without automated backups there is no point-in-time recovery after data \
                corruption, ransomware or an operator error; a short retention may end before \
                the problem is noticed.",
    remediation: "`aws rds modify-db-instance --db-instance-identifier <id> \
                  --backup-retention-period 7 --apply-immediately` (cluster members: `aws rds \
                  modify-db-cluster --backup-retention-period 7`). Turning backups on from 0 \
                  causes a brief outage on some engines.",
    cis: &[],
    fsbp: &["RDS.11"],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(backup_retention)),
};

fn backup_retention(ctx: &RegionCtx<'_>, clusters: &Clusters<'_>, db: &DbInstance) -> Judgement {
    let cluster = clusters.owning(db)?;
    if cluster.is_none() && db.is_read_replica() {
        return Err(Verdict::NotApplicable(msg!(
            "{} is a read replica; backups are taken on its source",
            inst(db)
        )));
    }
    let min = ctx.config.min_backup_retention_days;
    let days = cluster.map_or(db.backup_retention_period, |c| c.backup_retention_period);
    let ev = evidence! {
        "backup_retention_period" => days,
        "min_backup_retention_days" => min,
        "judged_by" => judged_by(cluster),
    };
    Ok(if days <= 0 {
        Verdict::Fail(msg!("{} has automated backups off", inst(db)), ev)
    } else {
        Verdict::pass_if(
            days >= min,
            || format!("{} keeps automated backups for {days} days", inst(db)),
            || {
                format!(
                    "{} keeps automated backups for {days} days, less than the {min} required",
                    inst(db)
                )
            },
            ev,
        )
    })
}

// ---------------------------------------------------------------------------------------------
// RDS.13 automatic minor version upgrade
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_AUTO_MINOR_VERSION_UPGRADE: CheckDef = CheckDef {
    id: "rds_instance_auto_minor_version_upgrade",
    title: "RDS DB instance has automatic minor version upgrades enabled",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Checks AutoMinorVersionUpgrade. Aurora applies it per instance, so Aurora \
                  members are judged on their own flag; Multi-AZ DB cluster members are judged \
                  by the cluster's flag when it reports one. RDS Custom instances, which do not \
                  support automatic upgrades, are not applicable.",
    rationale: "Minor versions carry security fixes; without automatic upgrades known \
                vulnerabilities stay until someone upgrades by hand.",
    remediation: "`aws rds modify-db-instance --db-instance-identifier <id> \
                  --auto-minor-version-upgrade --apply-immediately` (Multi-AZ DB clusters: \
                  `aws rds modify-db-cluster --auto-minor-version-upgrade`); upgrades then run \
                  in the maintenance window.",
    cis: &["v3.0.0/2.3.2", "v5.0.0/2.2.2"],
    fsbp: &["RDS.13"],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(auto_minor_version_upgrade)),
};

fn auto_minor_version_upgrade(
    _: &RegionCtx<'_>,
    clusters: &Clusters<'_>,
    db: &DbInstance,
) -> Judgement {
    if db.engine.starts_with("custom-") {
        return Err(Verdict::NotApplicable(msg!(
            "{} is an RDS Custom instance ({}), which does not support automatic minor \
             version upgrades",
            inst(db),
            db.engine
        )));
    }
    let cluster = clusters.owning(db)?;
    let from_cluster = cluster
        .filter(|c| !c.is_aurora())
        .and_then(|c| c.auto_minor_version_upgrade.map(|on| (on, c)));
    let (on, source) = match from_cluster {
        Some((on, c)) => (on, judged_by(Some(c))),
        None => (db.auto_minor_version_upgrade, judged_by(None)),
    };
    Ok(Verdict::pass_if(
        on,
        || format!("{} upgrades minor versions automatically", inst(db)),
        || format!("{} has automatic minor version upgrades off", inst(db)),
        evidence! {
            "auto_minor_version_upgrade" => on,
            "engine_version" => db.engine_version,
            "judged_by" => source,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS.17 copy tags to snapshots
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_COPY_TAGS_TO_SNAPSHOTS: CheckDef = CheckDef {
    id: "rds_instance_copy_tags_to_snapshots",
    title: "RDS DB instance copies its tags to snapshots",
    severity: Severity::Low,
    resource_type: "AwsRdsDbInstance",
    description: "Checks CopyTagsToSnapshot on standalone instances. Aurora and Multi-AZ DB \
                  cluster members are not applicable: snapshots are taken of the cluster and \
                  follow the cluster's setting (rds_cluster_copy_tags_to_snapshots).",
    rationale: "Tags drive ownership, data classification and tag-based access control; \
                untagged snapshots escape those policies and are hard to attribute.",
    remediation: "`aws rds modify-db-instance --db-instance-identifier <id> \
                  --copy-tags-to-snapshot --apply-immediately`.",
    cis: &[],
    fsbp: &["RDS.17"],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Instances(InstanceJudge::rds(copy_tags_to_snapshots)),
};

fn copy_tags_to_snapshots(_: &RegionCtx<'_>, _: &Clusters<'_>, db: &DbInstance) -> Judgement {
    if let Some(c) = &db.db_cluster_identifier {
        return Err(Verdict::NotApplicable(msg!(
            "{} is a member of DB cluster {c}; snapshots follow the cluster's setting \
             (rds_cluster_copy_tags_to_snapshots)",
            inst(db)
        )));
    }
    Ok(Verdict::pass_if(
        db.copy_tags_to_snapshot,
        || format!("{} copies its tags to snapshots", inst(db)),
        || format!("{} does not copy its tags to snapshots", inst(db)),
        evidence! { "copy_tags_to_snapshot" => db.copy_tags_to_snapshot },
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS.18 in a VPC
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_IN_VPC: CheckDef = CheckDef {
    id: "rds_instance_in_vpc",
    title: "RDS DB instance is deployed in a VPC",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Checks that the instance reports a VPC (DBSubnetGroup.VpcId).",
    rationale: "Outside a VPC (EC2-Classic) the instance cannot use VPC security groups, \
                private subnets, NACLs or flow logs.",
    remediation: "An instance cannot be moved into a VPC in place: snapshot it and restore \
                  into a private DB subnet group (`aws rds restore-db-instance-from-db-snapshot \
                  --db-subnet-group-name <group> --vpc-security-group-ids <sg>`), then cut over.",
    cis: &[],
    fsbp: &["RDS.18"],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Instances(InstanceJudge::rds(in_vpc)),
};

fn in_vpc(_: &RegionCtx<'_>, _: &Clusters<'_>, db: &DbInstance) -> Judgement {
    Ok(Verdict::pass_if(
        db.vpc_id.is_some(),
        || {
            format!(
                "{} is in VPC {}",
                inst(db),
                db.vpc_id.as_deref().unwrap_or_default()
            )
        },
        || format!("{} is not in a VPC", inst(db)),
        evidence! {
            "vpc_id" => db.vpc_id,
            "db_subnet_group_name" => db.db_subnet_group_name,
            "db_security_groups" => db.db_security_groups,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS.23 default port
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_DEFAULT_PORT: CheckDef = CheckDef {
    id: "rds_instance_default_port",
    title: "RDS DB instance does not listen on its engine's default port",
    severity: Severity::Low,
    resource_type: "AwsRdsDbInstance",
    description: "Compares the endpoint port with the engine's default (3306 MySQL, MariaDB and \
                  Aurora MySQL; 5432 PostgreSQL and Aurora PostgreSQL; 1521 Oracle; 1433 SQL \
                  Server; 50000 Db2). Members without a port of their own use the cluster's. An \
                  unknown port is not assessed; engines without a known default are not \
                  applicable.",
    rationale: "Scanners probe default database ports first; a non-default port removes the \
                instance from untargeted sweeps. It is defence in depth, not access control.",
    remediation: "`aws rds modify-db-instance --db-instance-identifier <id> --db-port-number \
                  <port> --apply-immediately` (the instance restarts); update security group \
                  rules and client connection strings.",
    cis: &[],
    fsbp: &["RDS.23"],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(default_port)),
};

fn default_port(ctx: &RegionCtx<'_>, clusters: &Clusters<'_>, db: &DbInstance) -> Judgement {
    let Some(default) = instance_family(ctx, db).default_port() else {
        return Err(Verdict::NotApplicable(msg!(
            "{} runs {}, which has no known default port",
            inst(db),
            db.engine
        )));
    };
    let mut port = db.port;
    let mut source = judged_by(None);
    if port.is_none() && db.is_cluster_member() {
        let cluster = clusters.owning(db)?;
        port = cluster.and_then(|c| c.port);
        source = judged_by(cluster);
    }
    let Some(port) = port else {
        return Err(Verdict::NotAssessed(msg!(
            "{} reports no port (no endpoint yet?)",
            inst(db)
        )));
    };
    Ok(Verdict::pass_if(
        port != default,
        || format!("{} listens on non-default port {port}", inst(db)),
        || {
            format!(
                "{} listens on {port}, the default port of {}",
                inst(db),
                db.engine
            )
        },
        evidence! { "port" => port, "default_port" => default, "judged_by" => source },
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS.25 default admin username
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_DEFAULT_ADMIN: CheckDef = CheckDef {
    id: "rds_instance_default_admin",
    title: "RDS DB instance uses a custom master username",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Checks that the master username is not one of `default_master_usernames` \
                  (case-insensitive; default admin, postgres, root, sa, master, administrator, \
                  rdsadmin, awsuser). Cluster members are judged by the cluster's master \
                  username. An unreported username is not assessed.",
    rationale: "Default administrator names are the first ones tried in password-guessing \
                attacks; a custom name means an attacker must guess both halves.",
    remediation: "The master username cannot be changed after creation: create a new instance \
                  with `aws rds create-db-instance --master-username <custom>` and migrate (dump \
                  and restore, or AWS DMS). Meanwhile let RDS manage and rotate the master \
                  password (`aws rds modify-db-instance --manage-master-user-password`) and keep \
                  applications off the master user.",
    cis: &[],
    fsbp: &["RDS.25"],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(default_admin)),
};

fn default_admin(ctx: &RegionCtx<'_>, clusters: &Clusters<'_>, db: &DbInstance) -> Judgement {
    let cluster = clusters.owning(db)?;
    let username = match cluster {
        Some(c) => c.master_username.as_deref(),
        None => db.master_username.as_deref(),
    };
    let Some(username) = username else {
        return Err(Verdict::NotAssessed(msg!(
            "{} reports no master username ({})",
            inst(db),
            judged_by(cluster)
        )));
    };
    Ok(Verdict::pass_if(
        !is_default_username(ctx, username),
        || format!("{} uses a custom master username", inst(db)),
        || format!("{} uses the default master username `{username}`", inst(db)),
        evidence! { "master_username" => username, "judged_by" => judged_by(cluster) },
    ))
}

// ---------------------------------------------------------------------------------------------
// Deprecated engine version (Prowler rds_instance_deprecated_engine_version)
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_DEPRECATED_ENGINE_VERSION: CheckDef = CheckDef {
    id: "rds_instance_deprecated_engine_version",
    title: "RDS DB instance runs an engine version RDS still supports",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Looks the instance's engine version up in DescribeDBEngineVersions for its \
                  engine and region: FAIL when the version is deprecated or no longer offered. \
                  When no versions were collected for the engine (call denied or not \
                  implemented), the instance is not assessed rather than failed.",
    rationale: "Deprecated versions stop receiving security fixes and are force-upgraded by \
                AWS on its schedule, not yours.",
    remediation: "List supported targets with `aws rds describe-db-engine-versions --engine \
                  <engine> --engine-version <version> --query \
                  'DBEngineVersions[].ValidUpgradeTarget'` and upgrade: `aws rds \
                  modify-db-instance --db-instance-identifier <id> --engine-version <target> \
                  [--allow-major-version-upgrade]` after testing on a snapshot restore.",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS,
    ],
    run: Runner::Instances(InstanceJudge::rds(deprecated_engine_version)),
};

fn deprecated_engine_version(ctx: &RegionCtx<'_>, _: &Clusters<'_>, db: &DbInstance) -> Judgement {
    Ok(engine_version_verdict(
        ctx,
        inst(db),
        &db.engine,
        &db.engine_version,
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS Extended Support
// ---------------------------------------------------------------------------------------------

/// `EngineLifecycleSupport` value of enrolment in RDS Extended Support.
pub(crate) const EXTENDED_SUPPORT: &str = "open-source-rds-extended-support";

pub static RDS_INSTANCE_EXTENDED_SUPPORT: CheckDef = CheckDef {
    id: "rds_instance_extended_support",
    title: "RDS DB instance is not enrolled in RDS Extended Support",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Checks EngineLifecycleSupport (the instance's, else its cluster's): \
                  `open-source-rds-extended-support` fails. Only MySQL, PostgreSQL and their \
                  Aurora variants have Extended Support; other engines are not applicable. An \
                  unreported value is not assessed (RDS enrols new databases by default).",
    rationale: "Extended Support keeps a major version past its end of standard support at an \
                extra per-vCPU-hour charge, and signals a database left on an old major version \
                that receives only critical fixes.",
    remediation: "Upgrade to a major version in standard support (`aws rds modify-db-instance \
                  --engine-version <target> --allow-major-version-upgrade`). Create or restore \
                  databases with `--engine-lifecycle-support \
                  open-source-rds-extended-support-disabled` to opt out.",
    cis: &[],
    fsbp: &[],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(extended_support)),
};

fn extended_support(ctx: &RegionCtx<'_>, clusters: &Clusters<'_>, db: &DbInstance) -> Judgement {
    let family = instance_family(ctx, db);
    if !matches!(
        family,
        EngineFamily::MySql
            | EngineFamily::Postgres
            | EngineFamily::AuroraMySql
            | EngineFamily::AuroraPostgres
    ) {
        return Err(Verdict::NotApplicable(msg!(
            "{} runs {}, which has no RDS Extended Support",
            inst(db),
            db.engine
        )));
    }
    let (value, source) = match &db.engine_lifecycle_support {
        Some(v) => (Some(v.clone()), judged_by(None)),
        None => match clusters.owning(db)? {
            Some(c) => (c.engine_lifecycle_support.clone(), judged_by(Some(c))),
            None => (None, judged_by(None)),
        },
    };
    let Some(value) = value else {
        return Err(Verdict::NotAssessed(msg!(
            "{} reports no EngineLifecycleSupport",
            inst(db)
        )));
    };
    let enrolled = value == EXTENDED_SUPPORT;
    Ok(Verdict::pass_if(
        !enrolled,
        || format!("{} is not enrolled in RDS Extended Support", inst(db)),
        || {
            format!(
                "{} is enrolled in RDS Extended Support ({} {})",
                inst(db),
                db.engine,
                db.engine_version
            )
        },
        evidence! {
            "engine_lifecycle_support" => value,
            "engine_version" => db.engine_version,
            "judged_by" => source,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// RDS.26 AWS Backup
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_BACKUP_PLAN: CheckDef = CheckDef {
    id: "rds_instance_backup_plan",
    title: "RDS DB instance is protected by an AWS Backup plan",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Checks that the instance ARN is among AWS Backup's protected resources \
                  (ListProtectedResources). Aurora and Multi-AZ DB cluster members are not \
                  applicable: AWS Backup protects the cluster (rds_cluster_backup_plan, \
                  Prowler #5434). Not assessed when protected resources were not collected.",
    rationale: "AWS Backup adds retention beyond 35 days, cross-account and cross-region \
                copies and vault lock, which automated RDS backups alone do not provide.",
    remediation: "Add the instance to a backup plan: `aws backup create-backup-selection \
                  --backup-plan-id <plan> --backup-selection \
                  '{\"SelectionName\":\"rds\",\"IamRoleArn\":\"<role-arn>\",\"Resources\":[\"<db-arn>\"]}'` \
                  (console: AWS Backup, Backup plans, Assign resources).",
    cis: &[],
    fsbp: &["RDS.26"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::BACKUP_LIST_PROTECTED_RESOURCES,
    ],
    run: Runner::Instances(InstanceJudge::rds(backup_plan)),
};

fn backup_plan(ctx: &RegionCtx<'_>, _: &Clusters<'_>, db: &DbInstance) -> Judgement {
    if let Some(c) = &db.db_cluster_identifier {
        return Err(Verdict::NotApplicable(msg!(
            "{} is a member of DB cluster {c}; AWS Backup protects the cluster \
             (rds_cluster_backup_plan)",
            inst(db)
        )));
    }
    backup_protected(ctx, inst(db), &db.db_instance_arn)
}

// ---------------------------------------------------------------------------------------------
// Master password managed in Secrets Manager (rdsguard addition)
// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_MASTER_PASSWORD_MANAGED: CheckDef = CheckDef {
    id: "rds_instance_master_password_managed",
    title: "RDS DB instance master password is managed in AWS Secrets Manager",
    severity: Severity::Low,
    resource_type: "AwsRdsDbInstance",
    description: "Checks ManageMasterUserPassword: RDS keeps the master password in Secrets \
                  Manager and rotates it. Cluster members are judged by their cluster; read \
                  replicas (whose master user is the source's) and RDS Custom instances (not \
                  supported) are not applicable.",
    rationale: "A master password chosen by a person tends to be reused, shared and never \
                rotated; a managed secret is random, rotated, access-controlled by IAM and \
                audited in CloudTrail.",
    remediation: "`aws rds modify-db-instance --db-instance-identifier <id> \
                  --manage-master-user-password [--master-user-secret-kms-key-id <cmk-arn>] \
                  --apply-immediately` (cluster members: `aws rds modify-db-cluster \
                  --manage-master-user-password`); point applications at the secret.",
    cis: &[],
    fsbp: &[],
    depends_on: INSTANCE_AND_CLUSTER_LISTINGS,
    run: Runner::Instances(InstanceJudge::rds(master_password_managed)),
};

fn master_password_managed(
    _: &RegionCtx<'_>,
    clusters: &Clusters<'_>,
    db: &DbInstance,
) -> Judgement {
    if db.engine.starts_with("custom-") {
        return Err(Verdict::NotApplicable(msg!(
            "{} is an RDS Custom instance, which cannot have a managed master password",
            inst(db)
        )));
    }
    let cluster = clusters.owning(db)?;
    if cluster.is_none() && db.is_read_replica() {
        return Err(Verdict::NotApplicable(msg!(
            "{} is a read replica; its master user is its source's",
            inst(db)
        )));
    }
    let managed = cluster.map_or(db.manage_master_user_password, |c| {
        c.manage_master_user_password
    });
    Ok(Verdict::pass_if(
        managed,
        || {
            format!(
                "{}'s master password is managed in Secrets Manager",
                inst(db)
            )
        },
        || {
            format!(
                "{}'s master password is not managed by RDS in Secrets Manager",
                inst(db)
            )
        },
        evidence! { "manage_master_user_password" => managed, "judged_by" => judged_by(cluster) },
    ))
}

// ---------------------------------------------------------------------------------------------
// Test fixtures shared by the core check modules.
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
pub(crate) mod fixtures {
    use rdsguard_model::{ClusterMember, DbCluster, DbInstance, DbSnapshot, Gap, GapKind, Op};

    use crate::testkit::{ACCOUNT, REGION};

    /// A standalone instance with the given engine and nothing enabled.
    pub fn instance(id: &str, engine: &str) -> DbInstance {
        DbInstance {
            db_instance_identifier: id.into(),
            db_instance_arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:{id}"),
            engine: engine.into(),
            engine_version: "16.3".into(),
            vpc_id: Some("vpc-1".into()),
            ..Default::default()
        }
    }

    /// A member of cluster `cluster`.
    pub fn member(id: &str, engine: &str, cluster: &str) -> DbInstance {
        DbInstance {
            db_cluster_identifier: Some(cluster.into()),
            ..instance(id, engine)
        }
    }

    /// A read replica of `source`.
    pub fn replica(id: &str, engine: &str, source: &str) -> DbInstance {
        DbInstance {
            read_replica_source_db_instance_identifier: Some(source.into()),
            ..instance(id, engine)
        }
    }

    /// A cluster with nothing enabled, listing `members` (the first is the writer).
    pub fn cluster(id: &str, engine: &str, members: &[&str]) -> DbCluster {
        DbCluster {
            db_cluster_identifier: id.into(),
            db_cluster_arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{id}"),
            engine: engine.into(),
            engine_version: "8.0.mysql_aurora.3.05.2".into(),
            engine_mode: Some("provisioned".into()),
            members: members
                .iter()
                .enumerate()
                .map(|(i, m)| ClusterMember {
                    db_instance_identifier: (*m).into(),
                    is_cluster_writer: i == 0,
                    db_cluster_parameter_group_status: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    /// A manual instance snapshot, private, unencrypted.
    pub fn db_snapshot(id: &str) -> DbSnapshot {
        DbSnapshot {
            identifier: id.into(),
            arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{id}"),
            engine: "postgres".into(),
            snapshot_type: "manual".into(),
            restore: Some(Default::default()),
            ..Default::default()
        }
    }

    /// A manual cluster snapshot, private, unencrypted.
    pub fn cluster_snapshot(id: &str) -> DbSnapshot {
        DbSnapshot {
            arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:{id}"),
            engine: "aurora-postgresql".into(),
            ..db_snapshot(id)
        }
    }

    /// A whole-operation gap (the listing failed).
    pub fn listing_gap(op: Op) -> Gap {
        Gap::new(op, Some(REGION), GapKind::AccessDenied, "denied").with_error_code("AccessDenied")
    }

    /// A gap for one resource.
    pub fn resource_gap(op: Op, resource: &str) -> Gap {
        listing_gap(op).with_resource(resource)
    }
}

#[cfg(test)]
mod tests {
    use rdsguard_findings::Status;
    use rdsguard_model::{EngineVersion, RegionSnapshot, ops};

    use super::fixtures::*;
    use super::*;
    use crate::Config;
    use crate::testkit::{region, run, run_with, snapshot, status_of};

    fn statuses(def: &CheckDef, r: RegionSnapshot) -> Vec<rdsguard_findings::Finding> {
        run(def, &snapshot(r, None))
    }

    /// A region whose DescribeDBInstances failed: every instance check is NOT_ASSESSED.
    fn assert_listing_gap_not_assessed(def: &CheckDef) {
        let mut r = region();
        r.rds.db_instances.push(instance("db", "postgres"));
        r.gaps.push(listing_gap(ops::RDS_DESCRIBE_DB_INSTANCES));
        let f = statuses(def, r);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotAssessed);
        assert!(
            f[0].message.contains("DescribeDBInstances"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn every_instance_check_is_not_assessed_when_the_listing_failed() {
        for def in CHECKS {
            assert_listing_gap_not_assessed(def);
        }
    }

    #[test]
    fn every_instance_check_skips_neptune_and_documentdb() {
        for def in CHECKS {
            let mut r = region();
            r.rds.db_instances.push(instance("graph", "neptune"));
            r.rds.db_instances.push(instance("docs", "docdb"));
            r.backup.protected_resource_arns = Some(vec![]);
            let f = statuses(def, r);
            assert_eq!(status_of(&f, "graph"), Status::NotApplicable, "{}", def.id);
            assert_eq!(status_of(&f, "docs"), Status::NotApplicable, "{}", def.id);
        }
    }

    #[test]
    fn storage_encrypted_reads_the_cluster_for_members() {
        let mut r = region();
        let mut enc = instance("enc", "postgres");
        enc.storage_encrypted = true;
        r.rds.db_instances.push(enc);
        r.rds.db_instances.push(instance("plain", "postgres"));
        // The member reports encrypted, but its cluster is not: the cluster decides.
        let mut m = member("m1", "aurora-postgresql", "c1");
        m.storage_encrypted = true;
        r.rds.db_instances.push(m);
        let mut m2 = member("m2", "aurora-postgresql", "c2");
        m2.storage_encrypted = false;
        r.rds.db_instances.push(m2);
        r.rds
            .db_instances
            .push(member("orphan", "aurora-postgresql", "gone"));
        r.rds
            .db_clusters
            .push(cluster("c1", "aurora-postgresql", &["m1"]));
        let mut c2 = cluster("c2", "aurora-postgresql", &["m2"]);
        c2.storage_encrypted = true;
        r.rds.db_clusters.push(c2);
        let f = statuses(&RDS_INSTANCE_STORAGE_ENCRYPTED, r);
        assert_eq!(status_of(&f, "enc"), Status::Pass);
        assert_eq!(status_of(&f, "plain"), Status::Fail);
        assert_eq!(status_of(&f, "m1"), Status::Fail);
        assert_eq!(status_of(&f, "m2"), Status::Pass);
        assert_eq!(status_of(&f, "orphan"), Status::NotAssessed);
        let m2 = f.iter().find(|f| f.resource.id == "m2").unwrap();
        assert_eq!(m2.evidence["judged_by"], "cluster c2");
    }

    #[test]
    fn missing_cluster_uses_the_per_resource_gap_as_reason() {
        let mut r = region();
        r.rds
            .db_instances
            .push(member("orphan", "aurora-mysql", "gone"));
        r.gaps
            .push(resource_gap(ops::RDS_DESCRIBE_DB_CLUSTERS, "gone"));
        let f = statuses(&RDS_INSTANCE_DELETION_PROTECTION, r);
        assert_eq!(status_of(&f, "orphan"), Status::NotAssessed);
        assert!(
            f[0].message.contains("access denied for gone"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn multi_az_ignores_members_and_replicas() {
        let mut r = region();
        let mut ha = instance("ha", "mysql");
        ha.multi_az = true;
        r.rds.db_instances.push(ha);
        r.rds.db_instances.push(instance("single", "mysql"));
        r.rds.db_instances.push(member("m", "aurora-mysql", "c"));
        r.rds.db_instances.push(replica("rr", "mysql", "ha"));
        let f = statuses(&RDS_INSTANCE_MULTI_AZ, r);
        assert_eq!(status_of(&f, "ha"), Status::Pass);
        assert_eq!(status_of(&f, "single"), Status::Fail);
        assert_eq!(status_of(&f, "m"), Status::NotApplicable);
        assert_eq!(status_of(&f, "rr"), Status::NotApplicable);
        assert!(f.iter().any(|f| f.message.contains("rds_cluster_multi_az")));
    }

    #[test]
    fn enhanced_monitoring_interval_bounds() {
        let mut r = region();
        for (id, interval) in [
            ("off", None),
            ("zero", Some(0)),
            ("ok", Some(60)),
            ("slow", Some(120)),
        ] {
            let mut db = instance(id, "postgres");
            db.monitoring_interval = interval;
            r.rds.db_instances.push(db);
        }
        // A Multi-AZ DB cluster member without its own interval takes the cluster's.
        r.rds
            .db_instances
            .push(member("maz", "postgres", "maz-cluster"));
        let mut c = cluster("maz-cluster", "postgres", &["maz"]);
        c.monitoring_interval = Some(15);
        r.rds.db_clusters.push(c);
        r.rds
            .db_instances
            .push(member("orphan", "postgres", "gone"));
        let snap = snapshot(r, None);
        let f = run(&RDS_INSTANCE_ENHANCED_MONITORING, &snap);
        assert_eq!(status_of(&f, "off"), Status::Fail);
        assert_eq!(status_of(&f, "zero"), Status::Fail);
        assert_eq!(status_of(&f, "ok"), Status::Pass);
        assert_eq!(status_of(&f, "slow"), Status::Fail);
        assert_eq!(status_of(&f, "maz"), Status::Pass);
        assert_eq!(status_of(&f, "orphan"), Status::NotAssessed);
        let loose = Config {
            max_monitoring_interval_seconds: 120,
            ..Config::default()
        };
        let f = run_with(&RDS_INSTANCE_ENHANCED_MONITORING, &snap, &loose);
        assert_eq!(status_of(&f, "slow"), Status::Pass);
    }

    #[test]
    fn deletion_protection_members_follow_cluster() {
        let mut r = region();
        let mut on = instance("on", "postgres");
        on.deletion_protection = true;
        r.rds.db_instances.push(on);
        r.rds.db_instances.push(instance("off", "postgres"));
        // Aurora members report DeletionProtection=false; the cluster's flag is what counts.
        r.rds.db_instances.push(member("m", "aurora-mysql", "c"));
        let mut c = cluster("c", "aurora-mysql", &["m"]);
        c.deletion_protection = true;
        r.rds.db_clusters.push(c);
        r.rds
            .db_instances
            .push(member("orphan", "aurora-mysql", "gone"));
        let f = statuses(&RDS_INSTANCE_DELETION_PROTECTION, r);
        assert_eq!(status_of(&f, "on"), Status::Pass);
        assert_eq!(status_of(&f, "off"), Status::Fail);
        assert_eq!(status_of(&f, "m"), Status::Pass);
        assert_eq!(status_of(&f, "orphan"), Status::NotAssessed);
    }

    #[test]
    fn iam_authentication_is_engine_aware() {
        let mut r = region();
        let mut pg = instance("pg", "postgres");
        pg.iam_database_authentication_enabled = true;
        r.rds.db_instances.push(pg);
        r.rds.db_instances.push(instance("maria", "mariadb"));
        r.rds.db_instances.push(instance("ora", "oracle-ee"));
        r.rds.db_instances.push(instance("mssql", "sqlserver-se"));
        // moto (and AWS) members do not mirror the cluster's IAM flag.
        r.rds
            .db_instances
            .push(member("m", "aurora-postgresql", "c"));
        let mut c = cluster("c", "aurora-postgresql", &["m"]);
        c.iam_database_authentication_enabled = true;
        r.rds.db_clusters.push(c);
        r.rds
            .db_instances
            .push(member("orphan", "aurora-mysql", "gone"));
        let f = statuses(&RDS_INSTANCE_IAM_AUTHENTICATION, r);
        assert_eq!(status_of(&f, "pg"), Status::Pass);
        assert_eq!(status_of(&f, "maria"), Status::Fail);
        assert_eq!(status_of(&f, "ora"), Status::NotApplicable);
        assert_eq!(status_of(&f, "mssql"), Status::NotApplicable);
        assert_eq!(status_of(&f, "m"), Status::Pass);
        assert_eq!(status_of(&f, "orphan"), Status::NotAssessed);
    }

    #[test]
    fn backup_retention_threshold_replicas_and_members() {
        let mut r = region();
        for (id, days) in [("none", 0), ("short", 3), ("week", 7)] {
            let mut db = instance(id, "mysql");
            db.backup_retention_period = days;
            r.rds.db_instances.push(db);
        }
        r.rds.db_instances.push(replica("rr", "mysql", "week"));
        let mut m = member("m", "aurora-mysql", "c");
        m.backup_retention_period = 1;
        r.rds.db_instances.push(m);
        let mut c = cluster("c", "aurora-mysql", &["m"]);
        c.backup_retention_period = 14;
        r.rds.db_clusters.push(c);
        r.rds
            .db_instances
            .push(member("orphan", "aurora-mysql", "gone"));
        let snap = snapshot(r, None);
        let f = run(&RDS_INSTANCE_BACKUP_RETENTION, &snap);
        assert_eq!(status_of(&f, "none"), Status::Fail);
        assert_eq!(status_of(&f, "short"), Status::Fail);
        assert_eq!(status_of(&f, "week"), Status::Pass);
        assert_eq!(status_of(&f, "rr"), Status::NotApplicable);
        assert_eq!(status_of(&f, "m"), Status::Pass);
        assert_eq!(status_of(&f, "orphan"), Status::NotAssessed);
        let lenient = Config {
            min_backup_retention_days: 3,
            ..Config::default()
        };
        let f = run_with(&RDS_INSTANCE_BACKUP_RETENTION, &snap, &lenient);
        assert_eq!(status_of(&f, "short"), Status::Pass);
        assert_eq!(status_of(&f, "none"), Status::Fail);
    }

    #[test]
    fn auto_minor_version_upgrade_cases() {
        let mut r = region();
        let mut on = instance("on", "postgres");
        on.auto_minor_version_upgrade = true;
        r.rds.db_instances.push(on);
        r.rds.db_instances.push(instance("off", "oracle-ee"));
        r.rds
            .db_instances
            .push(instance("custom", "custom-oracle-ee"));
        // Aurora: the member's own flag counts.
        let mut am = member("aurora-m", "aurora-mysql", "ac");
        am.auto_minor_version_upgrade = true;
        r.rds.db_instances.push(am);
        r.rds
            .db_clusters
            .push(cluster("ac", "aurora-mysql", &["aurora-m"]));
        // Multi-AZ DB cluster: the cluster's flag counts.
        let mut mm = member("maz-m", "mysql", "mc");
        mm.auto_minor_version_upgrade = true;
        r.rds.db_instances.push(mm);
        let mut mc = cluster("mc", "mysql", &["maz-m"]);
        mc.auto_minor_version_upgrade = Some(false);
        r.rds.db_clusters.push(mc);
        r.rds.db_instances.push(member("orphan", "mysql", "gone"));
        let f = statuses(&RDS_INSTANCE_AUTO_MINOR_VERSION_UPGRADE, r);
        assert_eq!(status_of(&f, "on"), Status::Pass);
        assert_eq!(status_of(&f, "off"), Status::Fail);
        assert_eq!(status_of(&f, "custom"), Status::NotApplicable);
        assert_eq!(status_of(&f, "aurora-m"), Status::Pass);
        assert_eq!(status_of(&f, "maz-m"), Status::Fail);
        assert_eq!(status_of(&f, "orphan"), Status::NotAssessed);
    }

    #[test]
    fn copy_tags_to_snapshots_cases() {
        let mut r = region();
        let mut on = instance("on", "mysql");
        on.copy_tags_to_snapshot = true;
        r.rds.db_instances.push(on);
        r.rds.db_instances.push(instance("off", "mysql"));
        r.rds.db_instances.push(member("m", "aurora-mysql", "c"));
        let f = statuses(&RDS_INSTANCE_COPY_TAGS_TO_SNAPSHOTS, r);
        assert_eq!(status_of(&f, "on"), Status::Pass);
        assert_eq!(status_of(&f, "off"), Status::Fail);
        assert_eq!(status_of(&f, "m"), Status::NotApplicable);
    }

    #[test]
    fn in_vpc_cases() {
        let mut r = region();
        r.rds.db_instances.push(instance("vpc", "mysql"));
        let mut classic = instance("classic", "mysql");
        classic.vpc_id = None;
        r.rds.db_instances.push(classic);
        let f = statuses(&RDS_INSTANCE_IN_VPC, r);
        assert_eq!(status_of(&f, "vpc"), Status::Pass);
        assert_eq!(status_of(&f, "classic"), Status::Fail);
    }

    #[test]
    fn default_port_cases() {
        let mut r = region();
        for (id, engine, port) in [
            ("pg-default", "postgres", Some(5432)),
            ("pg-custom", "postgres", Some(6543)),
            ("ora-default", "oracle-se2", Some(1521)),
            ("mssql-default", "sqlserver-ex", Some(1433)),
            ("db2-default", "db2-se", Some(50000)),
            ("no-port", "mysql", None),
            ("odd-engine", "timesten", Some(1)),
        ] {
            let mut db = instance(id, engine);
            db.port = port;
            r.rds.db_instances.push(db);
        }
        r.rds.db_instances.push(member("m", "aurora-mysql", "c"));
        let mut c = cluster("c", "aurora-mysql", &["m"]);
        c.port = Some(3306);
        r.rds.db_clusters.push(c);
        let f = statuses(&RDS_INSTANCE_DEFAULT_PORT, r);
        assert_eq!(status_of(&f, "pg-default"), Status::Fail);
        assert_eq!(status_of(&f, "pg-custom"), Status::Pass);
        assert_eq!(status_of(&f, "ora-default"), Status::Fail);
        assert_eq!(status_of(&f, "mssql-default"), Status::Fail);
        assert_eq!(status_of(&f, "db2-default"), Status::Fail);
        assert_eq!(status_of(&f, "no-port"), Status::NotAssessed);
        assert_eq!(status_of(&f, "odd-engine"), Status::NotApplicable);
        assert_eq!(status_of(&f, "m"), Status::Fail);
    }

    #[test]
    fn default_admin_cases() {
        let mut r = region();
        for (id, user) in [
            ("admin", Some("Admin")),
            ("custom", Some("app_owner")),
            ("unknown", None),
        ] {
            let mut db = instance(id, "mysql");
            db.master_username = user.map(str::to_string);
            r.rds.db_instances.push(db);
        }
        let mut m = member("m", "aurora-postgresql", "c");
        m.master_username = Some("custom_member".into());
        r.rds.db_instances.push(m);
        let mut c = cluster("c", "aurora-postgresql", &["m"]);
        c.master_username = Some("postgres".into());
        r.rds.db_clusters.push(c);
        let f = statuses(&RDS_INSTANCE_DEFAULT_ADMIN, r);
        assert_eq!(status_of(&f, "admin"), Status::Fail);
        assert_eq!(status_of(&f, "custom"), Status::Pass);
        assert_eq!(status_of(&f, "unknown"), Status::NotAssessed);
        assert_eq!(status_of(&f, "m"), Status::Fail);
    }

    fn version(engine: &str, v: &str, status: Option<&str>) -> EngineVersion {
        EngineVersion {
            engine: engine.into(),
            engine_version: v.into(),
            status: status.map(str::to_string),
        }
    }

    #[test]
    fn deprecated_engine_version_cases() {
        let mut r = region();
        for (id, engine, v) in [
            ("current", "postgres", "16.3"),
            ("old", "postgres", "11.1"),
            ("gone", "postgres", "9.6.1"),
            ("maria", "mariadb", "10.6.14"),
            ("mysql", "mysql", "5.7.44"),
        ] {
            let mut db = instance(id, engine);
            db.engine_version = v.into();
            r.rds.db_instances.push(db);
        }
        r.rds.engine_versions = vec![
            version("postgres", "16.3", Some("available")),
            version("postgres", "11.1", Some("deprecated")),
            version("mysql", "8.0.36", None),
        ];
        // The call failed for mariadb; mysql 5.7.44 is not among the versions offered.
        r.gaps.push(resource_gap(
            ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS,
            "mariadb",
        ));
        let f = statuses(&RDS_INSTANCE_DEPRECATED_ENGINE_VERSION, r);
        assert_eq!(status_of(&f, "current"), Status::Pass);
        assert_eq!(status_of(&f, "old"), Status::Fail);
        assert_eq!(status_of(&f, "gone"), Status::Fail);
        assert_eq!(status_of(&f, "maria"), Status::NotAssessed);
        assert!(
            f.iter()
                .any(|f| f.resource.id == "maria" && f.message.contains("access denied"))
        );
        assert_eq!(status_of(&f, "mysql"), Status::Fail);
    }

    #[test]
    fn deprecated_engine_version_not_assessed_when_endpoint_lacks_the_call() {
        let mut r = region();
        r.rds.db_instances.push(instance("db", "postgres"));
        r.gaps
            .push(listing_gap(ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS));
        let f = statuses(&RDS_INSTANCE_DEPRECATED_ENGINE_VERSION, r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::NotAssessed);
        // No versions and no gap: still not assessed, never FAIL.
        let mut r = region();
        r.rds.db_instances.push(instance("db", "postgres"));
        let f = statuses(&RDS_INSTANCE_DEPRECATED_ENGINE_VERSION, r);
        assert_eq!(status_of(&f, "db"), Status::NotAssessed);
    }

    #[test]
    fn extended_support_cases() {
        let mut r = region();
        for (id, engine, lifecycle) in [
            ("enrolled", "postgres", Some(EXTENDED_SUPPORT)),
            (
                "opted-out",
                "mysql",
                Some("open-source-rds-extended-support-disabled"),
            ),
            ("unknown", "postgres", None),
            ("ora", "oracle-ee", None),
        ] {
            let mut db = instance(id, engine);
            db.engine_lifecycle_support = lifecycle.map(str::to_string);
            r.rds.db_instances.push(db);
        }
        r.rds
            .db_instances
            .push(member("m", "aurora-postgresql", "c"));
        let mut c = cluster("c", "aurora-postgresql", &["m"]);
        c.engine_lifecycle_support = Some(EXTENDED_SUPPORT.into());
        r.rds.db_clusters.push(c);
        let f = statuses(&RDS_INSTANCE_EXTENDED_SUPPORT, r);
        assert_eq!(status_of(&f, "enrolled"), Status::Fail);
        assert_eq!(status_of(&f, "opted-out"), Status::Pass);
        assert_eq!(status_of(&f, "unknown"), Status::NotAssessed);
        assert_eq!(status_of(&f, "ora"), Status::NotApplicable);
        assert_eq!(status_of(&f, "m"), Status::Fail);
    }

    #[test]
    fn backup_plan_cases() {
        let mut r = region();
        let covered = instance("covered", "postgres");
        r.backup.protected_resource_arns = Some(vec![covered.db_instance_arn.clone()]);
        r.rds.db_instances.push(covered);
        r.rds.db_instances.push(instance("bare", "postgres"));
        r.rds
            .db_instances
            .push(member("m", "aurora-postgresql", "c"));
        let f = statuses(&RDS_INSTANCE_BACKUP_PLAN, r.clone());
        assert_eq!(status_of(&f, "covered"), Status::Pass);
        assert_eq!(status_of(&f, "bare"), Status::Fail);
        assert_eq!(status_of(&f, "m"), Status::NotApplicable);
        // Not collected (moto does not route ListProtectedResources): not assessed.
        r.backup.protected_resource_arns = None;
        let f = statuses(&RDS_INSTANCE_BACKUP_PLAN, r.clone());
        assert_eq!(status_of(&f, "covered"), Status::NotAssessed);
        r.gaps
            .push(listing_gap(ops::BACKUP_LIST_PROTECTED_RESOURCES));
        let f = statuses(&RDS_INSTANCE_BACKUP_PLAN, r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::NotAssessed);
        assert!(f[0].message.contains("ListProtectedResources"));
    }

    #[test]
    fn master_password_managed_cases() {
        let mut r = region();
        let mut managed = instance("managed", "postgres");
        managed.manage_master_user_password = true;
        r.rds.db_instances.push(managed);
        r.rds.db_instances.push(instance("manual", "postgres"));
        r.rds
            .db_instances
            .push(replica("rr", "postgres", "managed"));
        r.rds
            .db_instances
            .push(instance("custom", "custom-sqlserver-ee"));
        r.rds
            .db_instances
            .push(member("m", "aurora-postgresql", "c"));
        let mut c = cluster("c", "aurora-postgresql", &["m"]);
        c.manage_master_user_password = true;
        r.rds.db_clusters.push(c);
        r.rds
            .db_instances
            .push(member("orphan", "aurora-postgresql", "gone"));
        let f = statuses(&RDS_INSTANCE_MASTER_PASSWORD_MANAGED, r);
        assert_eq!(status_of(&f, "managed"), Status::Pass);
        assert_eq!(status_of(&f, "manual"), Status::Fail);
        assert_eq!(status_of(&f, "rr"), Status::NotApplicable);
        assert_eq!(status_of(&f, "custom"), Status::NotApplicable);
        assert_eq!(status_of(&f, "m"), Status::Pass);
        assert_eq!(status_of(&f, "orphan"), Status::NotAssessed);
    }

    /// Prowler #1459, #2275, #5434: members of a compliant Aurora cluster report defaults
    /// (DeletionProtection=false, MultiAZ=false, no backups...) for cluster-level settings.
    /// None of the instance checks may fail them.
    #[test]
    fn compliant_aurora_cluster_members_never_fail() {
        let mut r = region();
        let mut c = cluster("prod", "aurora-mysql", &["w", "r"]);
        c.storage_encrypted = true;
        c.deletion_protection = true;
        c.iam_database_authentication_enabled = true;
        c.backup_retention_period = 14;
        c.copy_tags_to_snapshot = true;
        c.master_username = Some("prod_owner".into());
        c.manage_master_user_password = true;
        c.port = Some(3307);
        c.multi_az = true;
        c.engine_lifecycle_support = Some("open-source-rds-extended-support-disabled".into());
        r.backup.protected_resource_arns = Some(vec![c.db_cluster_arn.clone()]);
        r.rds.engine_versions = vec![EngineVersion {
            engine: "aurora-mysql".into(),
            engine_version: c.engine_version.clone(),
            status: Some("available".into()),
        }];
        for (id, az) in [("w", "us-east-1a"), ("r", "us-east-1b")] {
            let mut m = member(id, "aurora-mysql", "prod");
            m.engine_version = c.engine_version.clone();
            m.availability_zone = Some(az.into());
            // Instance-level settings in Aurora.
            m.monitoring_interval = Some(60);
            m.auto_minor_version_upgrade = true;
            r.rds.db_instances.push(m);
        }
        r.rds.db_clusters.push(c);
        let snap = snapshot(r, None);
        for def in CHECKS {
            let f = run(def, &snap);
            assert_eq!(f.len(), 2, "{}", def.id);
            for finding in &f {
                assert!(
                    matches!(finding.status, Status::Pass | Status::NotApplicable),
                    "{} gave {} for {}: {}",
                    def.id,
                    finding.status,
                    finding.resource.id,
                    finding.message
                );
            }
        }
    }

    #[test]
    fn metadata_is_complete() {
        for def in CHECKS {
            assert!(def.id.starts_with("rds_instance_"), "{}", def.id);
            assert_eq!(def.resource_type, "AwsRdsDbInstance");
            assert!(
                def.description.len() > 40 && def.rationale.len() > 40,
                "{}",
                def.id
            );
            assert!(
                def.remediation.contains("aws "),
                "{} remediation has no CLI step",
                def.id
            );
            assert!(def.depends_on.contains(&ops::RDS_DESCRIBE_DB_INSTANCES));
        }
    }
}

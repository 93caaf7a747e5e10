//! Who did what: database log exports to CloudWatch Logs, Aurora MySQL audit logging,
//! CloudTrail coverage of RDS management events, and Security Hub.
//!
//! Required log types per engine follow FSBP RDS.9 (AWS Config rule rds-logging-enabled):
//! Oracle alert/audit/trace/listener, PostgreSQL postgresql/upgrade, MySQL and MariaDB
//! audit/error/general/slowquery, SQL Server error/agent, Aurora MySQL
//! audit/error/general/slowquery, Aurora PostgreSQL postgresql.

use std::fmt::Display;

use super::common::Described;
use rdsguard_findings::Severity;
use rdsguard_model::{DbInstance, GapKind, Trail, ops};

use super::common::{EngineFamily, cluster_resource, gap_in, instance_family, region_resource};
use super::instance::InstanceJudge;
use super::lookups::RegionLookups;
use super::tls::param_groups::{Param, cluster_parameter_group, param};
use super::tls::tls_defaults::is_truthy;
use super::tls::verdict::Verdict;
use crate::engine::{CheckDef, Emitter, RegionCtx, Runner};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[
    &RDS_INSTANCE_LOG_EXPORTS,
    &RDS_CLUSTER_LOG_EXPORTS,
    &RDS_CLUSTER_AURORA_MYSQL_AUDIT_LOGGING,
    &CLOUDTRAIL_RDS_MANAGEMENT_EVENTS_RECORDED,
    &CLOUDTRAIL_MULTI_REGION_ENABLED,
    &CLOUDTRAIL_LOG_FILE_VALIDATION,
    &CLOUDTRAIL_KMS_ENCRYPTION,
    &SECURITYHUB_ENABLED,
];

pub static RDS_INSTANCE_LOG_EXPORTS: CheckDef = CheckDef {
    id: "rds_instance_log_exports",
    title: "RDS DB instance publishes its engine's logs to CloudWatch Logs",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "For each DB instance outside a cluster, checks that every log type FSBP \
                  RDS.9 requires for its engine is exported to CloudWatch Logs (Oracle: alert, \
                  audit, trace, listener; PostgreSQL: postgresql, upgrade; MySQL and MariaDB: \
                  audit, error, general, slowquery; SQL Server: error, agent) and lists the \
                  missing ones. Cluster members are judged by rds_cluster_log_exports.",
    rationale: "Exported logs survive the instance, can be retained and alarmed on, and are \
                the record of logins, errors and (with audit plugins) queries during an \
                incident.",
    remediation: "Modify the instance with --cloudwatch-logs-export-configuration \
                  EnableLogTypes=<missing types> (audit logs also need the engine's audit \
                  plugin or option configured).",
    cis: &[],
    fsbp: &["RDS.9", "RDS.36", "RDS.40", "RDS.42"],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Instances(InstanceJudge::any(instance_log_exports)),
};

pub static RDS_CLUSTER_LOG_EXPORTS: CheckDef = CheckDef {
    id: "rds_cluster_log_exports",
    title: "RDS DB cluster publishes its engine's logs to CloudWatch Logs",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "For each Aurora or Multi-AZ DB cluster, checks the exported log types: \
                  audit, error, general and slowquery for MySQL engines (RDS.34 requires \
                  audit), postgresql for PostgreSQL engines (RDS.37). Aurora Serverless v1 \
                  cannot export logs and is NOT_APPLICABLE.",
    rationale: "Cluster logs are the record of logins, errors and audited queries; without \
                export they stay on the instances and rotate away.",
    remediation: "Modify the cluster with --cloudwatch-logs-export-configuration \
                  EnableLogTypes=<missing types>.",
    cis: &[],
    fsbp: &["RDS.34", "RDS.37"],
    depends_on: &[ops::RDS_DESCRIBE_DB_CLUSTERS],
    run: Runner::Region(cluster_log_exports),
};

pub static RDS_CLUSTER_AURORA_MYSQL_AUDIT_LOGGING: CheckDef = CheckDef {
    id: "rds_cluster_aurora_mysql_audit_logging",
    title: "Aurora MySQL DB cluster has Advanced Auditing enabled",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "For each Aurora MySQL cluster, checks its DB cluster parameter group: \
                  server_audit_logging=1 and server_audit_events not empty, with the group in \
                  sync on every member.",
    rationale: "Without Advanced Auditing, exporting the audit log exports nothing: logins, \
                queries and schema changes are not recorded.",
    remediation: "Set server_audit_logging=1 and server_audit_events (e.g. \
                  CONNECT,QUERY_DCL,QUERY_DDL) in a custom DB cluster parameter group, and \
                  export the audit log.",
    cis: &[],
    fsbp: &["RDS.45"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETER_GROUPS,
        ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETERS,
    ],
    run: Runner::Region(aurora_mysql_audit_logging),
};

pub static CLOUDTRAIL_RDS_MANAGEMENT_EVENTS_RECORDED: CheckDef = CheckDef {
    id: "cloudtrail_rds_management_events_recorded",
    title: "CloudTrail records RDS management events in regions with databases",
    severity: Severity::High,
    resource_type: "AwsAccount",
    description: "In every region with DB instances or clusters, checks that at least one \
                  trail covering the region (homed there, or multi-region) is logging, records \
                  write management events and does not exclude rds.amazonaws.com.",
    rationale: "Without it, nobody can tell who modified, shared, made public or deleted a \
                database or its snapshots, or changed its parameter groups.",
    remediation: "Create a multi-region trail (or organization trail) with management events \
                  (read and write), without excluding rds.amazonaws.com, and start logging.",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        ops::CLOUDTRAIL_DESCRIBE_TRAILS,
        ops::CLOUDTRAIL_GET_TRAIL_STATUS,
        ops::CLOUDTRAIL_GET_EVENT_SELECTORS,
    ],
    run: Runner::Region(rds_management_events_recorded),
};

pub static CLOUDTRAIL_MULTI_REGION_ENABLED: CheckDef = CheckDef {
    id: "cloudtrail_multi_region_enabled",
    title: "A logging multi-region CloudTrail trail records read and write management events",
    severity: Severity::High,
    resource_type: "AwsAccount",
    description: "In each region, checks that a multi-region trail covering it is logging and \
                  records both read and write management events.",
    rationale: "A multi-region trail also records activity in regions nobody watches, where an \
                attacker would create resources.",
    remediation: "aws cloudtrail create-trail --is-multi-region-trail ... and start-logging, \
                  with management events read and write.",
    cis: &["v5.0.0/3.1"],
    fsbp: &["CloudTrail.1"],
    depends_on: &[
        ops::CLOUDTRAIL_DESCRIBE_TRAILS,
        ops::CLOUDTRAIL_GET_TRAIL_STATUS,
        ops::CLOUDTRAIL_GET_EVENT_SELECTORS,
    ],
    run: Runner::Region(multi_region_enabled),
};

pub static CLOUDTRAIL_LOG_FILE_VALIDATION: CheckDef = CheckDef {
    id: "cloudtrail_log_file_validation",
    title: "CloudTrail trail has log file validation enabled",
    severity: Severity::Low,
    resource_type: "AwsCloudTrailTrail",
    description: "For each trail homed in the region, checks LogFileValidationEnabled.",
    rationale: "Digest files prove that delivered log files were not modified or deleted, \
                which matters when the logs are evidence.",
    remediation: "aws cloudtrail update-trail --name <trail> --enable-log-file-validation.",
    cis: &[],
    fsbp: &["CloudTrail.4"],
    depends_on: &[ops::CLOUDTRAIL_DESCRIBE_TRAILS],
    run: Runner::Region(log_file_validation),
};

pub static CLOUDTRAIL_KMS_ENCRYPTION: CheckDef = CheckDef {
    id: "cloudtrail_kms_encryption",
    title: "CloudTrail trail logs are encrypted with a KMS key",
    severity: Severity::Medium,
    resource_type: "AwsCloudTrailTrail",
    description: "For each trail homed in the region, checks that log files are encrypted with \
                  a KMS key (SSE-KMS).",
    rationale: "SSE-KMS adds a key policy between the log bucket and its readers, so read \
                access to the bucket alone does not reveal the account's activity.",
    remediation: "aws cloudtrail update-trail --name <trail> --kms-key-id <customer managed \
                  key> (the key policy must allow CloudTrail to encrypt).",
    cis: &["v1.4.0/3.7", "v3.0.0/3.5", "v5.0.0/3.5"],
    fsbp: &["CloudTrail.2"],
    depends_on: &[ops::CLOUDTRAIL_DESCRIBE_TRAILS],
    run: Runner::Region(trail_kms_encryption),
};

pub static SECURITYHUB_ENABLED: CheckDef = CheckDef {
    id: "securityhub_enabled",
    title: "Security Hub is enabled in regions with databases",
    severity: Severity::Medium,
    resource_type: "AwsAccount",
    description: "In every region with DB instances or clusters, checks that AWS Security Hub \
                  is enabled.",
    rationale: "Security Hub runs the FSBP RDS controls continuously between audits and \
                aggregates findings from GuardDuty RDS Protection and other services.",
    remediation: "aws securityhub enable-security-hub --enable-default-standards in the region \
                  (or through the Organizations delegated administrator).",
    cis: &["v5.0.0/4.16"],
    fsbp: &[],
    // Not in depends_on: a "not subscribed" DescribeHub gap means Security Hub is disabled,
    // which is a FAIL, not a reason to skip the region.
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_DB_CLUSTERS,
    ],
    run: Runner::Region(securityhub_enabled),
};

// ---------------------------------------------------------------------------------------
// Log exports

fn required_instance_logs(family: EngineFamily) -> Option<&'static [&'static str]> {
    match family {
        EngineFamily::Oracle => Some(&["alert", "audit", "trace", "listener"]),
        EngineFamily::Postgres => Some(&["postgresql", "upgrade"]),
        EngineFamily::MySql | EngineFamily::MariaDb => {
            Some(&["audit", "error", "general", "slowquery"])
        }
        EngineFamily::SqlServer => Some(&["error", "agent"]),
        _ => None,
    }
}

fn required_cluster_logs(family: EngineFamily) -> Option<&'static [&'static str]> {
    match family {
        EngineFamily::AuroraMySql | EngineFamily::MySql => {
            Some(&["audit", "error", "general", "slowquery"])
        }
        EngineFamily::AuroraPostgres | EngineFamily::Postgres => Some(&["postgresql"]),
        _ => None,
    }
}

fn exports_verdict(what: &dyn Display, required: &[&str], enabled: &[String]) -> Verdict {
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !enabled.iter().any(|e| e.eq_ignore_ascii_case(r)))
        .collect();
    let ev = evidence! {
        "required_log_types" => required,
        "enabled_log_types" => enabled,
        "missing_log_types" => missing,
    };
    if missing.is_empty() {
        Verdict::Pass(
            msg!("{what} exports {} to CloudWatch Logs", required.join(", ")),
            ev,
        )
    } else {
        Verdict::Fail(
            msg!(
                "{what} does not export {} to CloudWatch Logs",
                missing.join(", ")
            ),
            ev,
        )
    }
}

fn instance_log_exports(ctx: &RegionCtx<'_>, db: &DbInstance) -> Verdict {
    if let Some(c) = &db.db_cluster_identifier {
        return Verdict::NotApplicable(msg!(
            "member of DB cluster {c}: logs are exported by the cluster \
             (rds_cluster_log_exports)"
        ));
    }
    match required_instance_logs(instance_family(ctx, db)) {
        Some(required) => exports_verdict(
            &Described("DB instance", &db.db_instance_identifier),
            required,
            &db.enabled_cloudwatch_logs_exports,
        ),
        None => Verdict::NotApplicable(msg!(
            "FSBP defines no required log types for engine {}",
            db.engine
        )),
    }
}

fn cluster_log_exports(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for c in &ctx.region.rds.db_clusters {
        if em.skip_unwanted() {
            continue;
        }
        let verdict = if c.engine_mode.as_deref() == Some("serverless") {
            Verdict::NotApplicable(msg!(
                "DB cluster {} is Aurora Serverless v1, which cannot export logs",
                c.db_cluster_identifier
            ))
        } else {
            match required_cluster_logs(EngineFamily::of(&c.engine)) {
                Some(required) => exports_verdict(
                    &Described("DB cluster", &c.db_cluster_identifier),
                    required,
                    &c.enabled_cloudwatch_logs_exports,
                ),
                None => Verdict::NotApplicable(msg!(
                    "engine {} is not an RDS cluster engine this check evaluates",
                    c.engine
                )),
            }
        };
        verdict.emit(em, cluster_resource(ctx, c));
    }
}

fn aurora_mysql_audit_logging(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for c in &ctx.region.rds.db_clusters {
        if em.skip_unwanted() {
            continue;
        }
        let id = &c.db_cluster_identifier;
        let verdict = if EngineFamily::of(&c.engine) != EngineFamily::AuroraMySql {
            Verdict::NotApplicable(msg!("engine {} is not Aurora MySQL", c.engine))
        } else {
            match cluster_parameter_group(ctx.region, &RegionLookups::of(ctx), c) {
                Err(reason) => Verdict::NotAssessed(reason),
                Ok(att) => {
                    let logging = param(att.group, "server_audit_logging");
                    let events = param(att.group, "server_audit_events");
                    let ev = evidence! {
                        "parameter_group" => att.group.name,
                        "parameter_group_status" => att.status,
                        "server_audit_logging" => match logging { Param::Set(v) => Some(v), _ => None },
                        "server_audit_events" => match events { Param::Set(v) => Some(v), _ => None },
                    };
                    let verdict = match (logging, events) {
                        (Param::Set(v), _) if !is_truthy(v) => Verdict::Fail(
                            msg!("DB cluster {id} has server_audit_logging={v}: auditing is off"),
                            ev,
                        ),
                        (Param::Set(_), Param::Empty) => Verdict::Fail(
                            msg!(
                                "DB cluster {id} has auditing on but server_audit_events is \
                                 empty, so nothing is audited"
                            ),
                            ev,
                        ),
                        (Param::Set(_), Param::Set(e)) if e.trim().is_empty() => Verdict::Fail(
                            msg!(
                                "DB cluster {id} has auditing on but server_audit_events is \
                                 empty, so nothing is audited"
                            ),
                            ev,
                        ),
                        (Param::Set(_), Param::Set(e)) => {
                            Verdict::Pass(msg!("DB cluster {id} audits {e}"), ev)
                        }
                        (Param::Set(_), Param::NotReported) => Verdict::NotAssessed(msg!(
                            "server_audit_events is not reported by parameter group {}",
                            att.group.name
                        )),
                        (Param::Empty | Param::NotReported, _) => Verdict::NotAssessed(msg!(
                            "server_audit_logging has no value in parameter group {} and its \
                             engine default is not documented",
                            att.group.name
                        )),
                    };
                    verdict.pending(
                        att.in_sync(),
                        "parameter group",
                        &att.group.name,
                        att.status,
                    )
                }
            }
        };
        verdict.emit(em, cluster_resource(ctx, c));
    }
}

// ---------------------------------------------------------------------------------------
// CloudTrail

fn region_has_databases(ctx: &RegionCtx<'_>) -> bool {
    !ctx.region.rds.db_instances.is_empty() || !ctx.region.rds.db_clusters.is_empty()
}

/// DescribeTrails with shadow trails lists trails homed here and multi-region trails from
/// elsewhere; a single-region trail homed elsewhere does not cover this region.
fn covers(trail: &Trail, region: &str) -> bool {
    trail.is_multi_region_trail || trail.home_region.as_deref().is_none_or(|h| h == region)
}

fn homed_here(trail: &Trail, region: &str) -> bool {
    trail.home_region.as_deref().is_none_or(|h| h == region)
}

/// Why a trail's facts are unknown, from its per-trail gaps.
fn trail_unknown(ctx: &RegionCtx<'_>, trail: &Trail, op: rdsguard_model::Op, what: &str) -> String {
    [trail.name.as_str(), trail.trail_arn.as_str()]
        .iter()
        .find_map(|r| gap_in(ctx, op, Some(r)))
        .map_or_else(
            || format!("trail {}: {what} not collected", trail.name),
            |g| format!("trail {}: {}", trail.name, g.describe()),
        )
}

/// Whether one trail records RDS write management events in the region.
enum Recording {
    Yes,
    No(String),
    Unknown(String),
}

fn records_rds_writes(ctx: &RegionCtx<'_>, t: &Trail) -> Recording {
    // A known disqualifier decides even when the other fact is unknown.
    if t.is_logging == Some(false) {
        return Recording::No(format!("trail {} is not logging", t.name));
    }
    if let Some(e) = &t.management_events {
        if !e.write {
            return Recording::No(format!(
                "trail {} does not record write management events",
                t.name
            ));
        }
        if e.excluded_event_sources
            .iter()
            .any(|s| s.eq_ignore_ascii_case("rds.amazonaws.com"))
        {
            return Recording::No(format!(
                "trail {} excludes rds.amazonaws.com from management events",
                t.name
            ));
        }
    }
    if t.is_logging.is_none() {
        return Recording::Unknown(trail_unknown(
            ctx,
            t,
            ops::CLOUDTRAIL_GET_TRAIL_STATUS,
            "logging status",
        ));
    }
    if t.management_events.is_none() {
        return Recording::Unknown(trail_unknown(
            ctx,
            t,
            ops::CLOUDTRAIL_GET_EVENT_SELECTORS,
            "event selectors",
        ));
    }
    Recording::Yes
}

fn trail_names(trails: &[&Trail]) -> Vec<String> {
    trails.iter().map(|t| t.name.clone()).collect()
}

fn rds_management_events_recorded(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let res = region_resource(ctx, "AwsAccount");
    let region = ctx.region.region.as_str();
    if !region_has_databases(ctx) {
        em.not_applicable(res, msg!("no DB instance or cluster in {region}"));
        return;
    }
    let trails: Vec<&Trail> = ctx
        .region
        .cloudtrail
        .trails
        .iter()
        .filter(|t| covers(t, region))
        .collect();
    let mut failures = Vec::new();
    let mut unknowns = Vec::new();
    for t in &trails {
        match records_rds_writes(ctx, t) {
            Recording::Yes => {
                em.pass(
                    res,
                    msg!(
                        "trail {} records RDS write management events in {region}",
                        t.name
                    ),
                    evidence! {
                        "trail" => t.name,
                        "trail_arn" => t.trail_arn,
                        "multi_region" => t.is_multi_region_trail,
                        "home_region" => t.home_region,
                        "trails_covering_region" => trail_names(&trails),
                    },
                );
                return;
            }
            Recording::No(why) => failures.push(why),
            Recording::Unknown(why) => unknowns.push(why),
        }
    }
    if !unknowns.is_empty() {
        let mut reason = format!(
            "no trail is known to record RDS management events in {region}; unknown: {}",
            unknowns.join("; ")
        );
        if !failures.is_empty() {
            reason.push_str(&format!("; not recording: {}", failures.join("; ")));
        }
        em.not_assessed(res, reason);
        return;
    }
    let message = if trails.is_empty() {
        format!("no CloudTrail trail covers {region}, which has databases")
    } else {
        format!(
            "no trail records RDS management events in {region}: {}",
            failures.join("; ")
        )
    };
    em.fail(
        res,
        message,
        evidence! {
            "trails_covering_region" => trail_names(&trails),
            "problems" => failures,
        },
    );
}

fn multi_region_enabled(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let res = region_resource(ctx, "AwsAccount");
    let region = ctx.region.region.as_str();
    let trails: Vec<&Trail> = ctx
        .region
        .cloudtrail
        .trails
        .iter()
        .filter(|t| t.is_multi_region_trail)
        .collect();
    let mut failures = Vec::new();
    let mut unknowns = Vec::new();
    for t in &trails {
        if t.is_logging == Some(false) {
            failures.push(format!("trail {} is not logging", t.name));
            continue;
        }
        if let Some(e) = &t.management_events
            && !(e.read && e.write)
        {
            failures.push(format!(
                "trail {} does not record both read and write management events",
                t.name
            ));
            continue;
        }
        match (t.is_logging, &t.management_events) {
            (Some(true), Some(_)) => {
                em.pass(
                    res,
                    msg!(
                        "multi-region trail {} is logging read and write management events",
                        t.name
                    ),
                    evidence! {
                        "trail" => t.name,
                        "trail_arn" => t.trail_arn,
                        "home_region" => t.home_region,
                        "organization_trail" => t.is_organization_trail,
                    },
                );
                return;
            }
            (None, _) => unknowns.push(trail_unknown(
                ctx,
                t,
                ops::CLOUDTRAIL_GET_TRAIL_STATUS,
                "logging status",
            )),
            _ => unknowns.push(trail_unknown(
                ctx,
                t,
                ops::CLOUDTRAIL_GET_EVENT_SELECTORS,
                "event selectors",
            )),
        }
    }
    if !unknowns.is_empty() {
        em.not_assessed(
            res,
            msg!(
                "no multi-region trail is known to be logging in {region}; unknown: {}",
                unknowns.join("; ")
            ),
        );
        return;
    }
    let message = if trails.is_empty() {
        format!("no multi-region CloudTrail trail covers {region}")
    } else {
        format!(
            "no multi-region trail qualifies in {region}: {}",
            failures.join("; ")
        )
    };
    em.fail(
        res,
        message,
        evidence! {
            "multi_region_trails" => trail_names(&trails),
            "problems" => failures,
        },
    );
}

fn trail_resource(ctx: &RegionCtx<'_>, t: &Trail) -> rdsguard_findings::ResourceRef {
    rdsguard_findings::ResourceRef {
        resource_type: "AwsCloudTrailTrail".into(),
        id: t.name.clone(),
        arn: Some(t.trail_arn.clone()),
        account_id: super::common::region_names(ctx).0,
        region: Some(super::common::region_names(ctx).1),
    }
}

/// Run `judge` on each trail homed in the region (shadow copies of trails homed elsewhere are
/// judged in their home region), or report that none is.
fn per_home_trail(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>, judge: impl Fn(&Trail) -> Verdict) {
    let region = ctx.region.region.as_str();
    let mut any = false;
    for t in ctx
        .region
        .cloudtrail
        .trails
        .iter()
        .filter(|t| homed_here(t, region))
    {
        any = true;
        judge(t).emit(em, trail_resource(ctx, t));
    }
    if !any {
        em.not_applicable(
            region_resource(ctx, "AwsCloudTrailTrail"),
            msg!("no CloudTrail trail is homed in {region}"),
        );
    }
}

fn log_file_validation(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    per_home_trail(ctx, em, |t| {
        let ev = evidence! { "log_file_validation_enabled" => t.log_file_validation_enabled };
        if t.log_file_validation_enabled {
            Verdict::Pass(msg!("trail {} validates its log files", t.name), ev)
        } else {
            Verdict::Fail(msg!("trail {} does not validate its log files", t.name), ev)
        }
    });
}

fn trail_kms_encryption(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    per_home_trail(ctx, em, |t| {
        let ev = evidence! { "kms_key_id" => t.kms_key_id, "s3_bucket_name" => t.s3_bucket_name };
        match &t.kms_key_id {
            Some(k) => Verdict::Pass(msg!("trail {} encrypts logs with {k}", t.name), ev),
            None => Verdict::Fail(
                msg!("trail {} does not encrypt its logs with a KMS key", t.name),
                ev,
            ),
        }
    });
}

// ---------------------------------------------------------------------------------------
// Security Hub

fn securityhub_enabled(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let res = region_resource(ctx, "AwsAccount");
    let region = ctx.region.region.as_str();
    if !region_has_databases(ctx) {
        em.not_applicable(res, msg!("no DB instance or cluster in {region}"));
        return;
    }
    let sh = &ctx.region.securityhub;
    let ev = evidence! {
        "hub_arn" => sh.hub_arn,
        "enabled_standards" => sh.enabled_standards,
    };
    match sh.enabled {
        Some(true) => em.pass(res, msg!("Security Hub is enabled in {region}"), ev),
        Some(false) => em.fail(res, msg!("Security Hub is not enabled in {region}"), ev),
        None => match ctx.region.gap(ops::SECURITYHUB_DESCRIBE_HUB, None) {
            Some(g) if g.kind == GapKind::NotEnabled => em.fail(
                res,
                msg!("Security Hub is not enabled in {region} ({})", g.describe()),
                ev,
            ),
            Some(g) => em.not_assessed(res, g.describe()),
            None => em.not_assessed(
                res,
                msg!("whether Security Hub is enabled in {region} was not collected"),
            ),
        },
    }
}

#[cfg(test)]
#[path = "logging_tests.rs"]
mod tests;

//! Protection remediation: deletion protection, backup retention, copy tags to snapshots,
//! automatic minor version upgrades, IAM database authentication and log exports, each one
//! ModifyDBInstance or ModifyDBCluster call, on the resource where AWS applies the setting
//! (the cluster for most settings of Aurora members).

use rdsguard_findings::Finding;
use serde_json::{Value, json};

use super::{RegionPlan, Target};
use crate::plan::{FindingRef, Impact, Remediation};

/// The setting each check wants, and whether a cluster member's setting lives on the cluster.
struct Setting {
    checks: &'static [&'static str],
    /// Name used in step ids.
    slug: &'static str,
    /// Set on the cluster for members (false: per instance even in a cluster).
    cluster_level: bool,
}

const SETTINGS: &[Setting] = &[
    Setting {
        checks: &[
            "rds_instance_deletion_protection",
            "rds_cluster_deletion_protection",
        ],
        slug: "deletion-protection",
        cluster_level: true,
    },
    Setting {
        checks: &[
            "rds_instance_backup_retention",
            "rds_cluster_backup_retention",
        ],
        slug: "backup-retention",
        cluster_level: true,
    },
    Setting {
        checks: &[
            "rds_instance_copy_tags_to_snapshots",
            "rds_cluster_copy_tags_to_snapshots",
        ],
        slug: "copy-tags-to-snapshot",
        cluster_level: true,
    },
    Setting {
        checks: &[
            "rds_instance_auto_minor_version_upgrade",
            "rds_cluster_auto_minor_version_upgrade",
        ],
        slug: "auto-minor-version-upgrade",
        cluster_level: false,
    },
    Setting {
        checks: &[
            "rds_instance_iam_authentication",
            "rds_cluster_iam_authentication",
        ],
        slug: "iam-database-authentication",
        cluster_level: true,
    },
    Setting {
        checks: &["rds_instance_log_exports", "rds_cluster_log_exports"],
        slug: "log-exports",
        cluster_level: true,
    },
];

pub(super) fn handles(check: &str) -> bool {
    SETTINGS.iter().any(|s| s.checks.contains(&check))
}

pub(super) fn plan(ctx: &mut RegionPlan<'_, '_>, findings: &[&Finding]) {
    for f in findings {
        let Some(setting) = SETTINGS.iter().find(|s| s.checks.contains(&&*f.check_id)) else {
            continue;
        };
        let target = match ctx.target(f) {
            Some(Target::Instance(d)) => match d.db_cluster_identifier.as_deref() {
                Some(c) if setting.cluster_level => match ctx.cluster(c) {
                    Some(c) => Target::Cluster(c),
                    None => {
                        ctx.b
                            .skip(f, format!("its cluster {c} is not in the snapshot"));
                        continue;
                    }
                },
                _ => Target::Instance(d),
            },
            Some(t @ Target::Cluster(_)) => t,
            _ => {
                ctx.b
                    .skip(f, "the resource is not in the snapshot".to_string());
                continue;
            }
        };
        plan_setting(ctx, f, setting, target);
    }
}

fn plan_setting(ctx: &mut RegionPlan<'_, '_>, f: &Finding, setting: &Setting, target: Target<'_>) {
    let min = ctx.b.opts.min_backup_retention_days;
    let (operation, id_field, id, engine, current_retention, enabled_logs, is_member) = match target
    {
        Target::Instance(d) => (
            "ModifyDBInstance",
            "DBInstanceIdentifier",
            d.db_instance_identifier.clone(),
            d.engine.clone(),
            d.backup_retention_period,
            d.enabled_cloudwatch_logs_exports.clone(),
            d.db_cluster_identifier.is_some(),
        ),
        Target::Cluster(c) => (
            "ModifyDBCluster",
            "DBClusterIdentifier",
            c.db_cluster_identifier.clone(),
            c.engine.clone(),
            c.backup_retention_period,
            c.enabled_cloudwatch_logs_exports.clone(),
            false,
        ),
        _ => return,
    };
    let what = if operation == "ModifyDBInstance" {
        "DB instance"
    } else {
        "DB cluster"
    };
    let (field, value, impact, description, rollback): (&str, Value, Impact, String, String) =
        match setting.slug {
            "deletion-protection" => (
                "DeletionProtection",
                json!(true),
                Impact::None,
                format!("Turn on deletion protection for {what} {id}"),
                format!("{operation} {id} DeletionProtection=false"),
            ),
            "backup-retention" => (
                "BackupRetentionPeriod",
                json!(min.max(current_retention)),
                if current_retention == 0 {
                    Impact::BriefInterruption
                } else {
                    Impact::None
                },
                if current_retention == 0 {
                    format!(
                        "Turn on automated backups for {what} {id}, kept {min} days (from 0: \
                         RDS takes a first backup and briefly interrupts I/O)"
                    )
                } else {
                    format!(
                        "Keep automated backups of {what} {id} {min} days (now {current_retention})"
                    )
                },
                format!("{operation} {id} BackupRetentionPeriod={current_retention}"),
            ),
            "copy-tags-to-snapshot" => (
                "CopyTagsToSnapshot",
                json!(true),
                Impact::None,
                format!("Copy the tags of {what} {id} to its snapshots"),
                format!("{operation} {id} CopyTagsToSnapshot=false"),
            ),
            "auto-minor-version-upgrade" => (
                "AutoMinorVersionUpgrade",
                json!(true),
                Impact::None,
                format!(
                    "Turn on automatic minor version upgrades for {what} {id} (applied in its \
                     maintenance window)"
                ),
                format!("{operation} {id} AutoMinorVersionUpgrade=false"),
            ),
            "iam-database-authentication" => (
                "EnableIAMDatabaseAuthentication",
                json!(true),
                Impact::None,
                format!(
                    "Turn on IAM database authentication for {what} {id} (password logins keep \
                     working)"
                ),
                format!("{operation} {id} EnableIAMDatabaseAuthentication=false"),
            ),
            _ => {
                let missing = missing_logs(f, &enabled_logs);
                if missing.is_empty() {
                    ctx.b.skip(
                        f,
                        format!("cannot tell which log types {what} {id} ({engine}) lacks"),
                    );
                    return;
                }
                (
                    "CloudwatchLogsExportConfiguration",
                    json!({"EnableLogTypes": missing}),
                    Impact::None,
                    format!(
                        "Export the {} logs of {what} {id} to CloudWatch Logs",
                        missing.join(", ")
                    ),
                    format!(
                        "{operation} {id} CloudwatchLogsExportConfiguration.DisableLogTypes={}",
                        missing.join(",")
                    ),
                )
            }
        };
    let key = ctx.key(&[operation, &id, field]);
    let mut parameters = json!({field: value, "ApplyImmediately": true});
    parameters[id_field] = json!(id);
    let mut step = ctx.step(
        format!("{id}/{}", setting.slug),
        Remediation::Protection,
        vec![FindingRef::of(f)],
        "rds",
        operation,
        parameters,
        impact,
        description,
    );
    step.verification = format!("{operation} result shows {field} as planned");
    step.rollback = rollback;
    if operation == "ModifyDBInstance" && !is_member {
        let inherited = match field {
            "CloudwatchLogsExportConfiguration" => {
                let mut all = enabled_logs.clone();
                all.extend(missing_logs(f, &enabled_logs));
                ("EnableCloudwatchLogsExports", json!(all))
            }
            other => (other, value),
        };
        ctx.remember_instance_setting(&id, inherited.0, inherited.1);
    }
    ctx.b.add(&key, step);
}

/// The log types the check found missing (its evidence), less those already enabled.
fn missing_logs(f: &Finding, enabled: &[String]) -> Vec<String> {
    f.evidence
        .get("missing_log_types")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|t| !enabled.iter().any(|e| e.eq_ignore_ascii_case(t)))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

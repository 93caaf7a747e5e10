//! TLS remediation: the engine's TLS parameter enforced in a custom parameter group (a new
//! `rdsguard-tls-<family>` group when the default one is attached, since default groups cannot
//! be modified), the group attached, the pending reboot reported (or done with `--reboot`);
//! instances moved off obsolete or expiring CAs.

use rdsguard_findings::Finding;
use rdsguard_model::ParameterGroup;
use serde_json::json;

use rdsguard_checks::checks::common::EngineFamily;

use super::{RegionPlan, Target, aws_name, family_of};
use crate::plan::{FindingRef, Impact, Remediation};

const INSTANCE_TLS: &str = "rds_instance_tls_enforced";
const CLUSTER_TLS: &str = "rds_cluster_tls_enforced";
const CA_CHECKS: &[&str] = &[
    "rds_instance_ca_obsolete",
    "rds_instance_certificate_expiry",
];

pub(super) fn handles(check: &str) -> bool {
    check == INSTANCE_TLS || check == CLUSTER_TLS || CA_CHECKS.contains(&check)
}

/// How an engine enforces TLS through a parameter: (name, value, static).
fn tls_parameter(
    family: EngineFamily,
    cluster: bool,
) -> Option<(&'static str, &'static str, bool)> {
    match family {
        EngineFamily::Postgres | EngineFamily::AuroraPostgres => {
            Some(("rds.force_ssl", "1", false))
        }
        EngineFamily::SqlServer => Some(("rds.force_ssl", "1", true)),
        EngineFamily::MySql | EngineFamily::MariaDb if !cluster => {
            Some(("require_secure_transport", "1", false))
        }
        EngineFamily::MySql | EngineFamily::AuroraMySql => {
            Some(("require_secure_transport", "ON", false))
        }
        EngineFamily::Db2 => Some(("db2comm", "SSL", true)),
        _ => None,
    }
}

pub(super) fn plan(ctx: &mut RegionPlan<'_, '_>, findings: &[&Finding]) {
    for f in findings {
        match &*f.check_id {
            INSTANCE_TLS => instance_tls(ctx, f),
            CLUSTER_TLS => cluster_tls(ctx, f),
            _ => certificate(ctx, f),
        }
    }
}

fn instance_tls(ctx: &mut RegionPlan<'_, '_>, f: &Finding) {
    let Some(Target::Instance(d)) = ctx.target(f) else {
        ctx.b
            .skip(f, "the DB instance is not in the snapshot".to_string());
        return;
    };
    let family = family_of(&d.engine);
    let Some((param, value, is_static)) = tls_parameter(family, false) else {
        let why = if family == EngineFamily::Oracle {
            "Oracle enforces TLS through the NATIVE_NETWORK_ENCRYPTION option \
             (SQLNET.ENCRYPTION_SERVER=REQUIRED) in a custom option group; add it after \
             checking client support"
                .to_string()
        } else {
            format!("no TLS parameter is known for engine {}", d.engine)
        };
        ctx.b.skip(f, why);
        return;
    };
    let Some(membership) = d.db_parameter_groups.first() else {
        ctx.b
            .skip(f, "the instance reports no parameter group".to_string());
        return;
    };
    let groups = &ctx.region.rds.db_parameter_groups;
    let current = groups.iter().find(|g| g.name == membership.name);
    let id = d.db_instance_identifier.clone();
    let fix = FindingRef::of(f);
    if let Some(g) = current
        && g.value(param) == Some(value)
        && membership.status == "pending-reboot"
    {
        reboot_or_note(ctx, &id, fix, &g.name);
        return;
    }
    let group_name = match current {
        Some(g) if !g.is_default() => g.name.clone(),
        Some(g) => create_group(ctx, g, false, fix.clone()),
        None if membership.name.starts_with("default.") => {
            ctx.b.skip(
                f,
                format!(
                    "the family of parameter group {} is unknown (not in the snapshot)",
                    membership.name
                ),
            );
            return;
        }
        None => membership.name.clone(),
    };
    modify_group(
        ctx,
        &group_name,
        false,
        param,
        value,
        is_static,
        fix.clone(),
    );
    if group_name != membership.name {
        let key = ctx.key(&["ModifyDBInstance", &id, "DBParameterGroupName"]);
        let mut step = ctx.step(
            format!("{id}/attach-parameter-group"),
            Remediation::Tls,
            vec![fix.clone()],
            "rds",
            "ModifyDBInstance",
            json!({"DBInstanceIdentifier": id, "DBParameterGroupName": group_name, "ApplyImmediately": true}),
            Impact::RebootRequired,
            format!(
                "Attach {group_name} to {id}; the new group takes effect at the next reboot \
                 (status pending-reboot until then)"
            ),
        );
        step.preconditions = vec![format!("every client of {id} connects with TLS")];
        step.verification = "DescribeDBInstances lists the group".into();
        step.rollback = format!(
            "ModifyDBInstance {id} DBParameterGroupName={} and reboot",
            membership.name
        );
        ctx.remember_instance_setting(&id, "DBParameterGroupName", json!(group_name));
        ctx.b.add(&key, step);
        reboot_or_note(ctx, &id, fix, &group_name);
    } else if is_static {
        reboot_or_note(ctx, &id, fix, &group_name);
    }
}

fn reboot_or_note(ctx: &mut RegionPlan<'_, '_>, id: &str, fix: FindingRef, group: &str) {
    if ctx.b.opts.reboot {
        let key = ctx.key(&["RebootDBInstance", id]);
        let mut step = ctx.step(
            format!("{id}/reboot"),
            Remediation::Tls,
            vec![fix],
            "rds",
            "RebootDBInstance",
            json!({"DBInstanceIdentifier": id}),
            Impact::BriefInterruption,
            format!("Reboot {id} so that parameter group {group} takes effect"),
        );
        step.verification = "the instance is available and its group in-sync".into();
        step.rollback = "none needed".into();
        step.wait = Some(crate::plan::WaitFor::DbInstanceAvailable);
        ctx.b.add(&key, step);
    } else {
        ctx.b.note(format!(
            "DB instance {id}: parameter group {group} waits for a reboot; reboot in a \
             maintenance window (or plan with --reboot). Until then the TLS check fails."
        ));
    }
}

/// Plan the creation of `rdsguard-tls-<family>` (unless it exists); returns its name.
fn create_group(
    ctx: &mut RegionPlan<'_, '_>,
    default: &ParameterGroup,
    cluster: bool,
    fix: FindingRef,
) -> String {
    let name = aws_name(&["rdsguard-tls", &default.family]);
    let existing = if cluster {
        &ctx.region.rds.db_cluster_parameter_groups
    } else {
        &ctx.region.rds.db_parameter_groups
    };
    if existing.iter().any(|g| g.name == name) {
        return name;
    }
    let (operation, name_field, family_field) = if cluster {
        (
            "CreateDBClusterParameterGroup",
            "DBClusterParameterGroupName",
            "DBParameterGroupFamily",
        )
    } else {
        (
            "CreateDBParameterGroup",
            "DBParameterGroupName",
            "DBParameterGroupFamily",
        )
    };
    let key = ctx.key(&[operation, &name]);
    let mut params = json!({
        "Description": format!("rdsguard: {} with TLS enforced", default.family),
        "Tags": [{"Key": "rdsguard:purpose", "Value": "tls"}]
    });
    params[name_field] = json!(name);
    params[family_field] = json!(default.family);
    let mut step = ctx.step(
        format!("{name}/create"),
        Remediation::Tls,
        vec![fix],
        "rds",
        operation,
        params,
        Impact::None,
        format!(
            "Create parameter group {name} (family {}), replacing the unmodifiable {}",
            default.family, default.name
        ),
    );
    step.verification = "the group exists".into();
    step.rollback = "delete the group once nothing uses it".into();
    ctx.b.add(&key, step);
    name
}

fn modify_group(
    ctx: &mut RegionPlan<'_, '_>,
    group: &str,
    cluster: bool,
    param: &str,
    value: &str,
    is_static: bool,
    fix: FindingRef,
) {
    let (operation, name_field) = if cluster {
        (
            "ModifyDBClusterParameterGroup",
            "DBClusterParameterGroupName",
        )
    } else {
        ("ModifyDBParameterGroup", "DBParameterGroupName")
    };
    let key = ctx.key(&[operation, group, param]);
    let users: Vec<&str> = if cluster {
        ctx.region
            .rds
            .db_clusters
            .iter()
            .filter(|c| c.db_cluster_parameter_group.as_deref() == Some(group))
            .map(|c| c.db_cluster_identifier.as_str())
            .collect()
    } else {
        ctx.region
            .rds
            .db_instances
            .iter()
            .filter(|d| d.db_parameter_groups.iter().any(|m| m.name == group))
            .map(|d| d.db_instance_identifier.as_str())
            .collect()
    };
    let apply = if is_static {
        "pending-reboot"
    } else {
        "immediate"
    };
    let mut params = json!({"Parameters": [{"ParameterName": param, "ParameterValue": value, "ApplyMethod": apply}]});
    params[name_field] = json!(group);
    let mut step = ctx.step(
        format!("{group}/{}", aws_name(&["set", param])),
        Remediation::Tls,
        vec![fix],
        "rds",
        operation,
        params,
        if is_static {
            Impact::RebootRequired
        } else {
            Impact::None
        },
        format!(
            "Set {param}={value} in {group}{}{}",
            if is_static {
                " (static: applies at the next reboot)"
            } else {
                ""
            },
            if users.is_empty() {
                String::new()
            } else {
                format!("; used by {}", users.join(", "))
            }
        ),
    );
    step.preconditions =
        vec!["every client of the databases using the group connects with TLS".into()];
    step.verification = format!(
        "Describe{}Parameters shows {param}={value}",
        if cluster { "DBCluster" } else { "DB" }
    );
    step.rollback = format!("{operation} {group} {param} back to its previous value");
    ctx.b.add(&key, step);
}

fn cluster_tls(ctx: &mut RegionPlan<'_, '_>, f: &Finding) {
    let Some(Target::Cluster(c)) = ctx.target(f) else {
        ctx.b
            .skip(f, "the DB cluster is not in the snapshot".to_string());
        return;
    };
    let Some((param, value, is_static)) = tls_parameter(family_of(&c.engine), true) else {
        ctx.b.skip(
            f,
            format!("no TLS parameter is known for engine {}", c.engine),
        );
        return;
    };
    let Some(current_name) = c.db_cluster_parameter_group.clone() else {
        ctx.b.skip(
            f,
            "the cluster reports no cluster parameter group".to_string(),
        );
        return;
    };
    let fix = FindingRef::of(f);
    let id = c.db_cluster_identifier.clone();
    let current = ctx
        .region
        .rds
        .db_cluster_parameter_groups
        .iter()
        .find(|g| g.name == current_name);
    let group_name = match current {
        Some(g) if !g.is_default() => g.name.clone(),
        Some(g) => create_group(ctx, g, true, fix.clone()),
        None if current_name.starts_with("default.") => {
            // moto and some accounts do not list default cluster groups; the family is the
            // group name's suffix.
            let family = current_name.trim_start_matches("default.").to_string();
            let pseudo = ParameterGroup {
                name: current_name.clone(),
                family,
                ..Default::default()
            };
            create_group(ctx, &pseudo, true, fix.clone())
        }
        None => current_name.clone(),
    };
    modify_group(ctx, &group_name, true, param, value, is_static, fix.clone());
    if group_name != current_name {
        let key = ctx.key(&["ModifyDBCluster", &id, "DBClusterParameterGroupName"]);
        let mut step = ctx.step(
            format!("{id}/attach-cluster-parameter-group"),
            Remediation::Tls,
            vec![fix],
            "rds",
            "ModifyDBCluster",
            json!({"DBClusterIdentifier": id, "DBClusterParameterGroupName": group_name, "ApplyImmediately": true}),
            Impact::RebootRequired,
            format!(
                "Attach {group_name} to cluster {id}; members apply it at their next reboot"
            ),
        );
        step.preconditions = vec![format!("every client of {id} connects with TLS")];
        step.verification = "DescribeDBClusters lists the group".into();
        step.rollback = format!("ModifyDBCluster {id} DBClusterParameterGroupName={current_name}");
        ctx.b.add(&key, step);
        ctx.b.note(format!(
            "DB cluster {id}: reboot its members in a maintenance window so that {group_name} \
             takes effect"
        ));
    }
}

fn certificate(ctx: &mut RegionPlan<'_, '_>, f: &Finding) {
    let Some(Target::Instance(d)) = ctx.target(f) else {
        ctx.b
            .skip(f, "the DB instance is not in the snapshot".to_string());
        return;
    };
    let target_ca = ctx.b.opts.ca_certificate.clone();
    let id = d.db_instance_identifier.clone();
    if d.ca_certificate_identifier.as_deref() == Some(target_ca.as_str()) {
        ctx.b.skip(
            f,
            format!(
                "{id} already uses {target_ca}; its server certificate is renewed by RDS (or \
                 pick another CA with --ca)"
            ),
        );
        return;
    }
    let key = ctx.key(&["ModifyDBInstance", &id, "CACertificateIdentifier"]);
    let mut step = ctx.step(
        format!("{id}/rotate-ca"),
        Remediation::Tls,
        vec![FindingRef::of(f)],
        "rds",
        "ModifyDBInstance",
        json!({"DBInstanceIdentifier": id, "CACertificateIdentifier": target_ca, "ApplyImmediately": true}),
        Impact::BriefInterruption,
        format!(
            "Move {id} from CA {} to {target_ca} (the instance restarts to load the new \
             certificate)",
            d.ca_certificate_identifier.as_deref().unwrap_or("(none)")
        ),
    );
    step.preconditions = vec![format!(
        "clients that verify certificates trust {target_ca} (the RDS global bundle)"
    )];
    step.verification = "DescribeDBInstances shows the new CA".into();
    step.rollback = format!(
        "ModifyDBInstance {id} CACertificateIdentifier={}",
        d.ca_certificate_identifier
            .as_deref()
            .unwrap_or("(previous)")
    );
    ctx.remember_instance_setting(&id, "CACertificateIdentifier", json!(target_ca));
    ctx.b.add(&key, step);
}

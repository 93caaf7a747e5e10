//! Transparent Data Encryption for Oracle (option `TDE`) and SQL Server (option
//! `TRANSPARENT_DATA_ENCRYPTION`): the option added to the instance's custom option group, or
//! to a new `rdsguard-tde-<engine>-<version>` group when the default group is attached, which
//! is then attached.

use rdsguard_findings::Finding;
use rdsguard_model::DbInstance;
use serde_json::json;

use rdsguard_checks::checks::common::EngineFamily;

use super::{RegionPlan, Target, aws_name, family_of};
use crate::plan::{FindingRef, Impact, Remediation};

const ORACLE: &str = "rds_instance_oracle_tde";
const SQLSERVER: &str = "rds_instance_sqlserver_tde";

pub(super) fn handles(check: &str) -> bool {
    check == ORACLE || check == SQLSERVER
}

/// The major engine version option groups are made for: `19` for Oracle, `15.00` for SQL
/// Server.
fn major_version(d: &DbInstance) -> Option<String> {
    let parts: Vec<&str> = d.engine_version.split('.').collect();
    match family_of(&d.engine) {
        EngineFamily::Oracle => parts.first().map(|s| s.to_string()),
        EngineFamily::SqlServer if parts.len() >= 2 => Some(format!("{}.{}", parts[0], parts[1])),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

pub(super) fn plan(ctx: &mut RegionPlan<'_, '_>, findings: &[&Finding]) {
    for f in findings {
        let Some(Target::Instance(d)) = ctx.target(f) else {
            ctx.b
                .skip(f, "the DB instance is not in the snapshot".to_string());
            continue;
        };
        let option = if &*f.check_id == ORACLE {
            "TDE"
        } else {
            "TRANSPARENT_DATA_ENCRYPTION"
        };
        let fix = FindingRef::of(f);
        let id = d.db_instance_identifier.clone();
        let current = d.option_group_memberships.first().map(|m| m.name.clone());
        let custom = current
            .as_deref()
            .filter(|n| !n.starts_with("default:") && !n.starts_with("default."));
        let group = match custom {
            Some(name) => name.to_string(),
            None => {
                let Some(major) = current
                    .as_deref()
                    .and_then(|n| ctx.region.rds.option_groups.iter().find(|g| g.name == n))
                    .map(|g| g.major_engine_version.clone())
                    .filter(|v| !v.is_empty())
                    .or_else(|| major_version(d))
                else {
                    ctx.b.skip(
                        f,
                        format!(
                            "the major version of {} {} is unknown",
                            d.engine, d.engine_version
                        ),
                    );
                    continue;
                };
                let name = aws_name(&["rdsguard-tde", &d.engine, &major]);
                let exists = ctx.region.rds.option_groups.iter().any(|g| g.name == name);
                if !exists {
                    let key = ctx.key(&["CreateOptionGroup", &name]);
                    let mut step = ctx.step(
                        format!("{name}/create"),
                        Remediation::Tde,
                        vec![fix.clone()],
                        "rds",
                        "CreateOptionGroup",
                        json!({
                            "OptionGroupName": name,
                            "EngineName": d.engine,
                            "MajorEngineVersion": major,
                            "OptionGroupDescription": format!("rdsguard: {} {major} with TDE", d.engine),
                            "Tags": [{"Key": "rdsguard:purpose", "Value": "tde"}]
                        }),
                        Impact::None,
                        format!("Create option group {name} for {} {major}", d.engine),
                    );
                    step.verification = "DescribeOptionGroups finds the group".into();
                    step.rollback = "delete the group once nothing uses it".into();
                    ctx.b.add(&key, step);
                }
                name
            }
        };
        let key = ctx.key(&["ModifyOptionGroup", &group, option]);
        let mut step = ctx.step(
            format!("{group}/add-{}", aws_name(&[option])),
            Remediation::Tde,
            vec![fix.clone()],
            "rds",
            "ModifyOptionGroup",
            json!({"OptionGroupName": group, "OptionsToInclude": [{"OptionName": option}], "ApplyImmediately": true}),
            Impact::None,
            format!("Add the {option} option to option group {group}"),
        );
        step.preconditions = vec![format!(
            "{} edition and version support TDE (the check verified it)",
            d.engine
        )];
        step.verification = "DescribeOptionGroups lists the option".into();
        step.rollback = if option == "TDE" {
            "none: Oracle TDE is a permanent and persistent option; AWS does not let it be \
             removed from the group or the instance"
                .into()
        } else {
            "remove the option only after decrypting every database (ModifyOptionGroup \
             OptionsToRemove)"
                .into()
        };
        ctx.b.add(&key, step);
        if custom.is_none() {
            let key = ctx.key(&["ModifyDBInstance", &id, "OptionGroupName"]);
            let mut step = ctx.step(
                format!("{id}/attach-option-group"),
                Remediation::Tde,
                vec![fix],
                "rds",
                "ModifyDBInstance",
                json!({"DBInstanceIdentifier": id, "OptionGroupName": group, "ApplyImmediately": true}),
                Impact::BriefInterruption,
                format!("Attach option group {group} to {id} (RDS may restart the instance)"),
            );
            step.verification = "DescribeDBInstances lists the option group".into();
            step.rollback = if option == "TDE" {
                "none: an instance with Oracle TDE cannot go back to a group without it".into()
            } else {
                format!(
                    "ModifyDBInstance {id} OptionGroupName={} after decrypting every database",
                    current.as_deref().unwrap_or("(previous)")
                )
            };
            ctx.remember_instance_setting(&id, "OptionGroupName", json!(group));
            ctx.b.add(&key, step);
        }
        ctx.b.note(format!(
            "DB instance {id}: the {option} option makes TDE available; encrypt the data inside \
             the database ({})",
            if option == "TDE" {
                "encrypted tablespaces or columns"
            } else {
                "rds_backup/TDE certificate, then CREATE DATABASE ENCRYPTION KEY and ALTER DATABASE ... SET ENCRYPTION ON"
            }
        ));
    }
}

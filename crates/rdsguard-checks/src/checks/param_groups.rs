//! The parameter and option groups attached to DB instances and clusters, resolved against the
//! snapshot with their apply status, and explained when they cannot be resolved.
//!
//! A group whose parameters were not collected (a per-group gap, or a group missing from the
//! snapshot) is never treated as empty: callers get an `Err(reason)` and report NOT_ASSESSED.

use rdsguard_model::{
    DbCluster, DbInstance, Gap, Op, OptionGroup, OptionGroupOption, ParameterGroup, RegionSnapshot,
    ops,
};

use crate::checks::lookups::RegionLookups;

/// A group attached to a resource, with the apply status RDS reports for the attachment.
pub struct Attached<'a, G> {
    pub group: &'a G,
    /// `in-sync`, `pending-reboot`, `applying`... Empty when RDS reported none.
    pub status: &'a str,
}

impl<G> Attached<'_, G> {
    /// The running configuration matches the group. An empty status is taken as in sync:
    /// RDS always reports one, so only emulators omit it.
    pub fn in_sync(&self) -> bool {
        self.status.is_empty() || self.status.eq_ignore_ascii_case("in-sync")
    }
}

/// A parameter as the collected group reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param<'a> {
    /// Reported with a value.
    Set(&'a str),
    /// Reported without a value (RDS: an engine default with no value, i.e. empty).
    Empty,
    /// Not reported at all (emulators report only parameters set explicitly).
    NotReported,
}

pub fn param<'a>(group: &'a ParameterGroup, name: &str) -> Param<'a> {
    match group.parameters.get(name) {
        None => Param::NotReported,
        Some(p) => match p.value.as_deref() {
            Some(v) => Param::Set(v),
            None => Param::Empty,
        },
    }
}

/// The gap that explains why a group's data is missing: per group (by name or ARN) or for
/// the whole operation.
fn group_gap<'a>(
    region: &'a RegionSnapshot,
    lookups: &RegionLookups,
    op: Op,
    name: &str,
    arn: Option<&str>,
) -> Option<&'a Gap> {
    lookups
        .gap(region, op, Some(name))
        .or_else(|| arn.and_then(|a| lookups.gap(region, op, Some(a))))
}

fn lookup_parameter_group<'a>(
    region: &'a RegionSnapshot,
    lookups: &RegionLookups,
    group: Option<&'a ParameterGroup>,
    name: &str,
    status: &'a str,
    list_op: Op,
    params_op: Op,
) -> Result<Attached<'a, ParameterGroup>, String> {
    if let Some(gap) = group_gap(
        region,
        lookups,
        params_op,
        name,
        group.and_then(|g| g.arn.as_deref()),
    ) {
        return Err(format!(
            "parameters of group {name} are unknown: {}",
            gap.describe()
        ));
    }
    match group {
        Some(group) => Ok(Attached { group, status }),
        None => match group_gap(region, lookups, list_op, name, None) {
            Some(gap) => Err(format!(
                "parameter group {name} is unknown: {}",
                gap.describe()
            )),
            None => Err(format!(
                "parameter group {name} is not in the snapshot, so its parameters are unknown"
            )),
        },
    }
}

/// The DB parameter group of an instance.
pub fn instance_parameter_group<'a>(
    region: &'a RegionSnapshot,
    lookups: &RegionLookups,
    db: &'a DbInstance,
) -> Result<Attached<'a, ParameterGroup>, String> {
    let Some(membership) = db.db_parameter_groups.first() else {
        return Err(format!(
            "DB instance {} reports no DB parameter group",
            db.db_instance_identifier
        ));
    };
    lookup_parameter_group(
        region,
        lookups,
        lookups.db_parameter_group(region, &membership.name),
        &membership.name,
        &membership.status,
        ops::RDS_DESCRIBE_DB_PARAMETER_GROUPS,
        ops::RDS_DESCRIBE_DB_PARAMETERS,
    )
}

/// The DB cluster parameter group of a cluster. Its apply status is the first member status
/// that is not in sync (RDS reports it per member), else `in-sync`.
pub fn cluster_parameter_group<'a>(
    region: &'a RegionSnapshot,
    lookups: &RegionLookups,
    cluster: &'a DbCluster,
) -> Result<Attached<'a, ParameterGroup>, String> {
    let Some(name) = cluster.db_cluster_parameter_group.as_deref() else {
        return Err(format!(
            "DB cluster {} reports no DB cluster parameter group",
            cluster.db_cluster_identifier
        ));
    };
    let mut statuses = cluster
        .members
        .iter()
        .filter_map(|m| m.db_cluster_parameter_group_status.as_deref());
    let first = statuses.clone().next();
    let status = statuses
        .find(|s| !s.eq_ignore_ascii_case("in-sync"))
        .or(first)
        .unwrap_or_default();
    lookup_parameter_group(
        region,
        lookups,
        lookups.cluster_parameter_group(region, name),
        name,
        status,
        ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETER_GROUPS,
        ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETERS,
    )
}

/// Every option group attached to an instance.
pub struct AttachedOptions<'a> {
    pub groups: Vec<Attached<'a, OptionGroup>>,
}

impl<'a> AttachedOptions<'a> {
    /// The option with this name in any attached group, with the group holding it.
    pub fn option(
        &self,
        name: &str,
    ) -> Option<(&'a OptionGroupOption, &Attached<'a, OptionGroup>)> {
        self.groups
            .iter()
            .find_map(|a| a.group.option(name).map(|o| (o, a)))
    }

    pub fn names(&self) -> Vec<&'a str> {
        self.groups.iter().map(|a| a.group.name.as_str()).collect()
    }

    pub fn option_names(&self) -> Vec<&'a str> {
        self.groups
            .iter()
            .flat_map(|a| a.group.options.iter().map(|o| o.option_name.as_str()))
            .collect()
    }
}

/// The option groups of an instance. Every attached group must be in the snapshot.
pub fn instance_option_groups<'a>(
    region: &'a RegionSnapshot,
    lookups: &RegionLookups,
    db: &'a DbInstance,
) -> Result<AttachedOptions<'a>, String> {
    if db.option_group_memberships.is_empty() {
        return Err(format!(
            "DB instance {} reports no option group membership",
            db.db_instance_identifier
        ));
    }
    let mut groups = Vec::new();
    for m in &db.option_group_memberships {
        let group = lookups.option_group(region, &m.name);
        let arn = group.and_then(|g| g.arn.as_deref());
        if let Some(gap) = group_gap(
            region,
            lookups,
            ops::RDS_DESCRIBE_OPTION_GROUPS,
            &m.name,
            arn,
        ) {
            return Err(format!(
                "option group {} is unknown: {}",
                m.name,
                gap.describe()
            ));
        }
        match group {
            Some(group) => groups.push(Attached {
                group,
                status: &m.status,
            }),
            None => {
                return Err(format!(
                    "option group {} is not in the snapshot, so its options are unknown",
                    m.name
                ));
            }
        }
    }
    Ok(AttachedOptions { groups })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdsguard_model::{ClusterMember, GroupMembership, Parameter};

    fn group(name: &str, params: &[(&str, Option<&str>)]) -> ParameterGroup {
        ParameterGroup {
            name: name.into(),
            parameters: params
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Parameter {
                            value: v.map(str::to_string),
                            ..Default::default()
                        },
                    )
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn param_distinguishes_set_empty_and_absent() {
        let g = group("g", &[("a", Some("1")), ("b", None)]);
        assert_eq!(param(&g, "a"), Param::Set("1"));
        assert_eq!(param(&g, "b"), Param::Empty);
        assert_eq!(param(&g, "c"), Param::NotReported);
    }

    #[test]
    fn instance_group_found_missing_and_gapped() {
        let mut region = RegionSnapshot::new("us-east-1");
        region.rds.db_parameter_groups.push(group("pg", &[]));
        let mut db = DbInstance {
            db_instance_identifier: "db".into(),
            db_parameter_groups: vec![GroupMembership {
                name: "pg".into(),
                status: "pending-reboot".into(),
            }],
            ..Default::default()
        };
        let att =
            instance_parameter_group(&region, &RegionLookups::new(&region), &db).expect("found");
        assert!(!att.in_sync());

        region.gaps.push(
            Gap::new(
                ops::RDS_DESCRIBE_DB_PARAMETERS,
                Some("us-east-1"),
                rdsguard_model::GapKind::AccessDenied,
                "denied",
            )
            .with_resource("pg"),
        );
        let err = instance_parameter_group(&region, &RegionLookups::new(&region), &db)
            .err()
            .expect("gap");
        assert!(err.contains("access denied"), "{err}");

        db.db_parameter_groups[0].name = "other".into();
        let err = instance_parameter_group(&region, &RegionLookups::new(&region), &db)
            .err()
            .expect("missing");
        assert!(err.contains("not in the snapshot"), "{err}");

        db.db_parameter_groups.clear();
        assert!(instance_parameter_group(&region, &RegionLookups::new(&region), &db).is_err());
    }

    #[test]
    fn cluster_status_prefers_a_pending_member() {
        let mut region = RegionSnapshot::new("us-east-1");
        region
            .rds
            .db_cluster_parameter_groups
            .push(group("cpg", &[]));
        let member = |s: &str| ClusterMember {
            db_instance_identifier: "m".into(),
            is_cluster_writer: false,
            db_cluster_parameter_group_status: Some(s.into()),
        };
        let cluster = DbCluster {
            db_cluster_identifier: "c".into(),
            db_cluster_parameter_group: Some("cpg".into()),
            members: vec![member("in-sync"), member("pending-reboot")],
            ..Default::default()
        };
        let att = cluster_parameter_group(&region, &RegionLookups::new(&region), &cluster)
            .expect("found");
        assert_eq!(att.status, "pending-reboot");
    }
}

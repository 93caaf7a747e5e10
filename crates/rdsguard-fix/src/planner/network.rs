//! Network remediation: a dedicated security group per database (inbound only from the given
//! sources on the database port, explicit outbound), attached in place of the current groups;
//! internet rules on the database port revoked; PubliclyAccessible turned off.

use rdsguard_findings::Finding;
use rdsguard_model::{SecurityGroup, SecurityGroupPermission};
use serde_json::{Value, json};

use super::{RegionPlan, Target, aws_name};
use crate::plan::{FindingRef, Impact, Remediation};

const PUBLIC_FLAG: &[&str] = &[
    "rds_instance_no_public_access",
    "rds_cluster_no_public_access",
];
const GROUP_CHECKS: &[&str] = &[
    "rds_db_port_open_to_internet",
    "rds_default_security_group_attached",
    "rds_security_group_broad_cidr",
];
const WORLD: &[&str] = &["0.0.0.0/0", "::/0"];

pub(super) fn handles(check: &str) -> bool {
    PUBLIC_FLAG.contains(&check) || GROUP_CHECKS.contains(&check)
}

/// The database whose network settings change: a standalone instance, or the cluster that
/// owns a member's security groups.
#[derive(Clone, Copy)]
enum Db<'s> {
    Instance(&'s rdsguard_model::DbInstance),
    Cluster(&'s rdsguard_model::DbCluster),
}

impl Db<'_> {
    fn id(&self) -> &str {
        match self {
            Db::Instance(d) => &d.db_instance_identifier,
            Db::Cluster(c) => &c.db_cluster_identifier,
        }
    }
    fn port(&self) -> Option<u16> {
        match self {
            Db::Instance(d) => d.port,
            Db::Cluster(c) => c.port,
        }
    }
    fn group_ids(&self) -> Vec<String> {
        match self {
            Db::Instance(d) => d.security_group_ids().map(str::to_string).collect(),
            Db::Cluster(c) => c.security_group_ids().map(str::to_string).collect(),
        }
    }
    fn modify(&self) -> (&'static str, &'static str) {
        match self {
            Db::Instance(_) => ("ModifyDBInstance", "DBInstanceIdentifier"),
            Db::Cluster(_) => ("ModifyDBCluster", "DBClusterIdentifier"),
        }
    }
}

pub(super) fn plan(ctx: &mut RegionPlan<'_, '_>, findings: &[&Finding]) {
    for f in findings {
        if PUBLIC_FLAG.contains(&&*f.check_id) {
            public_flag(ctx, f);
        }
    }
    // One security group remediation per database, fixing all its group findings.
    let mut per_db: Vec<(Db<'_>, Vec<&Finding>)> = Vec::new();
    for f in findings
        .iter()
        .copied()
        .filter(|f| GROUP_CHECKS.contains(&&*f.check_id))
    {
        let db = match ctx.target(f) {
            Some(Target::Instance(d)) => match d.db_cluster_identifier.as_deref() {
                Some(c) => match ctx.cluster(c) {
                    Some(c) => Db::Cluster(c),
                    None => {
                        ctx.b
                            .skip(f, format!("its cluster {c} is not in the snapshot"));
                        continue;
                    }
                },
                None => Db::Instance(d),
            },
            Some(Target::Cluster(c)) => Db::Cluster(c),
            _ => {
                ctx.b.skip(
                    f,
                    "only DB instances and clusters get a dedicated security group (RDS \
                     Proxy: change its groups with ModifyDBProxy)"
                        .to_string(),
                );
                continue;
            }
        };
        match per_db.iter_mut().find(|(d, _)| d.id() == db.id()) {
            Some((_, fs)) => fs.push(f),
            None => per_db.push((db, vec![f])),
        }
    }
    for (db, fs) in per_db {
        dedicated_group(ctx, db, &fs);
    }
}

fn public_flag(ctx: &mut RegionPlan<'_, '_>, f: &Finding) {
    let fix = FindingRef::of(f);
    let instances: Vec<&rdsguard_model::DbInstance> = match ctx.target(f) {
        Some(Target::Instance(d)) if d.publicly_accessible => vec![d],
        Some(Target::Cluster(c)) if c.publicly_accessible == Some(true) => {
            ctx.b.skip(
                f,
                format!(
                    "Multi-AZ DB cluster {} was created public and RDS cannot change that in \
                     place (ModifyDBCluster has no PubliclyAccessible): restore it private, or \
                     keep it behind the dedicated security group",
                    c.db_cluster_identifier
                ),
            );
            return;
        }
        Some(Target::Cluster(c)) => c
            .members
            .iter()
            .filter_map(|m| ctx.instance(&m.db_instance_identifier))
            .filter(|d| d.publicly_accessible)
            .collect(),
        _ => Vec::new(),
    };
    if instances.is_empty() {
        ctx.b.skip(
            f,
            "PubliclyAccessible is already off; the finding comes from elsewhere".to_string(),
        );
        return;
    }
    for d in instances {
        let id = d.db_instance_identifier.clone();
        let key = ctx.key(&["modify-instance", &id, "PubliclyAccessible"]);
        let mut step = ctx.step(
            format!("{id}/publicly-accessible-off"),
            Remediation::Network,
            vec![fix.clone()],
            "rds",
            "ModifyDBInstance",
            json!({"DBInstanceIdentifier": id, "PubliclyAccessible": false, "ApplyImmediately": true}),
            Impact::None,
            format!(
                "Make DB instance {id} private: its endpoint resolves to a private address only \
                 (no restart; clients outside the VPC lose access)"
            ),
        );
        step.preconditions = vec!["no client needs to reach the database from the internet".into()];
        step.verification = "DescribeDBInstances shows PubliclyAccessible=false".into();
        step.rollback = format!("ModifyDBInstance {id} PubliclyAccessible=true (not advised)");
        ctx.remember_instance_setting(&id, "PubliclyAccessible", Value::Bool(false));
        ctx.b.add(&key, step);
    }
}

/// A source a rule allows: CIDR or group.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    V4(String),
    V6(String),
    Group(String),
}

fn covers_port(p: &SecurityGroupPermission, port: u16) -> bool {
    let port = i32::from(port);
    match (p.ip_protocol.as_str(), p.from_port, p.to_port) {
        ("-1", _, _) => true,
        ("tcp" | "6", Some(from), Some(to)) => {
            (from == -1 && to == -1) || (from <= port && port <= to)
        }
        ("tcp" | "6", None, None) => true,
        _ => false,
    }
}

fn dedicated_group(ctx: &mut RegionPlan<'_, '_>, db: Db<'_>, findings: &[&Finding]) {
    let fixes: Vec<FindingRef> = findings.iter().map(|f| FindingRef::of(f)).collect();
    let opts = ctx.b.opts;
    let explicit = !opts.allow_cidrs.is_empty() || !opts.allow_security_groups.is_empty();
    let (Some(port), Some(vpc)) = (db.port(), vpc_of(ctx, db)) else {
        for f in findings {
            ctx.b
                .skip(f, format!("the port or VPC of {} is unknown", db.id()));
        }
        return;
    };
    let attached: Vec<&SecurityGroup> = db
        .group_ids()
        .iter()
        .filter_map(|id| {
            ctx.region
                .ec2
                .security_groups
                .iter()
                .find(|g| &g.group_id == id)
        })
        .collect();
    let mut fixes_here = fixes.clone();
    if !explicit {
        // Carrying over broad sources would not fix a broad-source finding: say so.
        fixes_here.retain(|f| {
            let keep = f.check_id != "rds_security_group_broad_cidr";
            if !keep && let Some(orig) = findings.iter().find(|x| *x.check_id == *f.check_id) {
                ctx.b.skip(
                    orig,
                    "give the networks that need the database with --allow-cidr or \
                     --allow-sg to replace the broad sources"
                        .to_string(),
                );
            }
            keep
        });
        if fixes_here.is_empty() {
            return;
        }
    }
    let sources: Vec<Source> = if explicit {
        opts.allow_cidrs
            .iter()
            .map(|c| {
                if c.contains(':') {
                    Source::V6(c.clone())
                } else {
                    Source::V4(c.clone())
                }
            })
            .chain(
                opts.allow_security_groups
                    .iter()
                    .map(|g| Source::Group(g.clone())),
            )
            .collect()
    } else {
        carried_over(&attached, port)
    };
    let db_id = db.id().to_string();
    let group_name = aws_name(&["rdsguard", &db_id]);
    let existing = ctx
        .region
        .ec2
        .security_groups
        .iter()
        .find(|g| g.group_name == group_name && g.vpc_id.as_deref() == Some(vpc.as_str()));
    let group_ref: String = match existing {
        Some(g) => g.group_id.clone(),
        None => {
            let key = ctx.key(&["create-sg", &db_id]);
            let mut create = ctx.step(
                format!("{db_id}/create-security-group"),
                Remediation::Network,
                fixes_here.clone(),
                "ec2",
                "CreateSecurityGroup",
                json!({
                    "GroupName": group_name,
                    "Description": format!("rdsguard: access to database {db_id} on port {port} only"),
                    "VpcId": vpc,
                    "TagSpecifications": [{"ResourceType": "security-group", "Tags": [
                        {"Key": "rdsguard:database", "Value": db_id},
                        {"Key": "Name", "Value": group_name}
                    ]}]
                }),
                Impact::None,
                format!("Create security group {group_name} in {vpc} for {db_id}"),
            );
            create.outputs = vec!["GroupId".into()];
            create.verification = "DescribeSecurityGroups finds the group".into();
            create.rollback = "DeleteSecurityGroup once nothing uses it".into();
            let id = ctx.b.add(&key, create);
            let group = crate::plan::placeholder(&id, "GroupId");
            if !sources.is_empty() {
                let mut perm = json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port});
                let v4: Vec<Value> = sources
                    .iter()
                    .filter_map(|s| match s {
                        Source::V4(c) => {
                            Some(json!({"CidrIp": c, "Description": "rdsguard: database clients"}))
                        }
                        _ => None,
                    })
                    .collect();
                let v6: Vec<Value> = sources
                    .iter()
                    .filter_map(|s| match s {
                        Source::V6(c) => Some(
                            json!({"CidrIpv6": c, "Description": "rdsguard: database clients"}),
                        ),
                        _ => None,
                    })
                    .collect();
                let groups: Vec<Value> = sources
                    .iter()
                    .filter_map(|s| match s {
                        Source::Group(g) => {
                            Some(json!({"GroupId": g, "Description": "rdsguard: database clients"}))
                        }
                        _ => None,
                    })
                    .collect();
                perm["IpRanges"] = Value::Array(v4);
                perm["Ipv6Ranges"] = Value::Array(v6);
                perm["UserIdGroupPairs"] = Value::Array(groups);
                let described: Vec<String> = sources
                    .iter()
                    .map(|s| match s {
                        Source::V4(c) | Source::V6(c) | Source::Group(c) => c.clone(),
                    })
                    .collect();
                let key = ctx.key(&["sg-ingress", &db_id]);
                let mut step = ctx.step(
                    format!("{db_id}/allow-clients"),
                    Remediation::Network,
                    fixes_here.clone(),
                    "ec2",
                    "AuthorizeSecurityGroupIngress",
                    json!({"GroupId": group, "IpPermissions": [perm]}),
                    Impact::None,
                    format!(
                        "Allow {} on TCP {port}{}",
                        described.join(", "),
                        if explicit {
                            ""
                        } else {
                            " (the non-internet sources allowed today)"
                        }
                    ),
                );
                step.verification = "DescribeSecurityGroups shows the rule".into();
                step.rollback = "RevokeSecurityGroupIngress with the same permission".into();
                ctx.b.add(&key, step);
            }
            let egress: Vec<String> = if opts.egress_cidrs.is_empty() {
                vpc_cidrs(ctx, &vpc)
            } else {
                opts.egress_cidrs.clone()
            };
            if !egress.is_empty() {
                let v4: Vec<Value> = egress
                    .iter()
                    .filter(|c| !c.contains(':'))
                    .map(|c| json!({"CidrIp": c}))
                    .collect();
                let v6: Vec<Value> = egress
                    .iter()
                    .filter(|c| c.contains(':'))
                    .map(|c| json!({"CidrIpv6": c}))
                    .collect();
                let key = ctx.key(&["sg-egress", &db_id]);
                let mut step = ctx.step(
                    format!("{db_id}/allow-egress"),
                    Remediation::Network,
                    fixes_here.clone(),
                    "ec2",
                    "AuthorizeSecurityGroupEgress",
                    json!({"GroupId": group, "IpPermissions": [{
                        "IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535,
                        "IpRanges": v4, "Ipv6Ranges": v6
                    }]}),
                    Impact::None,
                    format!("Allow outbound TCP to {} only", egress.join(", ")),
                );
                step.verification = "DescribeSecurityGroups shows the rule".into();
                step.rollback = "RevokeSecurityGroupEgress with the same permission".into();
                ctx.b.add(&key, step);
            }
            let key = ctx.key(&["sg-egress-default", &db_id]);
            let mut step = ctx.step(
                format!("{db_id}/revoke-default-egress"),
                Remediation::Network,
                fixes_here.clone(),
                "ec2",
                "RevokeSecurityGroupEgress",
                json!({"GroupId": group, "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
                Impact::None,
                "Remove the allow-all outbound rule EC2 adds to new groups (replies to allowed \
                 connections need no rule: groups are stateful)"
                    .to_string(),
            );
            step.verification = "DescribeSecurityGroups shows no 0.0.0.0/0 egress".into();
            step.rollback = "AuthorizeSecurityGroupEgress -1 0.0.0.0/0".into();
            ctx.b.add(&key, step);
            group
        }
    };
    let previous = db.group_ids();
    let (operation, id_field) = db.modify();
    let key = ctx.key(&["attach-sg", &db_id]);
    let mut attach = ctx.step(
        format!("{db_id}/attach-security-group"),
        Remediation::Network,
        fixes_here.clone(),
        "rds",
        operation,
        {
            let mut p = json!({"VpcSecurityGroupIds": [group_ref], "ApplyImmediately": true});
            p[id_field] = json!(db_id);
            p
        },
        Impact::None,
        format!(
            "Attach {group_name} to {db_id} in place of {} (no restart)",
            if previous.is_empty() {
                "nothing".to_string()
            } else {
                previous.join(", ")
            }
        ),
    );
    attach.preconditions = vec![format!(
        "every client of {db_id} is among the allowed sources of {group_name}"
    )];
    attach.verification = format!("{operation} result lists only {group_name}");
    attach.rollback = format!(
        "{operation} {db_id} VpcSecurityGroupIds={}",
        previous.join(",")
    );
    if let Db::Instance(d) = db {
        ctx.remember_instance_setting(
            &d.db_instance_identifier,
            "VpcSecurityGroupIds",
            json!([group_ref]),
        );
    }
    ctx.b.add(&key, attach);

    // Internet rules on the database port, in the groups that were attached.
    for g in attached {
        for p in g.ingress.iter().filter(|p| covers_port(p, port)) {
            let v4: Vec<&String> = p
                .ipv4_ranges
                .iter()
                .filter(|c| WORLD.contains(&c.as_str()))
                .collect();
            let v6: Vec<&String> = p
                .ipv6_ranges
                .iter()
                .filter(|c| WORLD.contains(&c.as_str()))
                .collect();
            if v4.is_empty() && v6.is_empty() {
                continue;
            }
            let mut perm = json!({"IpProtocol": p.ip_protocol});
            if let (Some(from), Some(to)) = (p.from_port, p.to_port) {
                perm["FromPort"] = json!(from);
                perm["ToPort"] = json!(to);
            }
            if !v4.is_empty() {
                perm["IpRanges"] = Value::Array(v4.iter().map(|c| json!({"CidrIp": c})).collect());
            }
            if !v6.is_empty() {
                perm["Ipv6Ranges"] =
                    Value::Array(v6.iter().map(|c| json!({"CidrIpv6": c})).collect());
            }
            let ports = match (p.from_port, p.to_port) {
                (Some(a), Some(b)) if a == b => format!("port {a}"),
                (Some(a), Some(b)) if a >= 0 => format!("ports {a}-{b}"),
                _ => "all ports".to_string(),
            };
            let key = ctx.key(&["revoke-world", &g.group_id, &perm.to_string()]);
            let mut step = ctx.step(
                aws_name(&[&g.group_id, "revoke-internet", &p.ip_protocol, &ports]),
                Remediation::Network,
                fixes_here.clone(),
                "ec2",
                "RevokeSecurityGroupIngress",
                json!({"GroupId": g.group_id, "IpPermissions": [perm]}),
                Impact::None,
                format!(
                    "Revoke the internet rule ({} {}) on {ports} of {} ({})",
                    p.ip_protocol,
                    v4.iter()
                        .chain(&v6)
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    g.group_id,
                    g.group_name
                ),
            );
            step.preconditions = vec![format!(
                "nothing else attached to {} must be reachable from the internet on {ports}",
                g.group_id
            )];
            step.verification =
                "DescribeSecurityGroups shows no internet source on the port".into();
            step.rollback =
                "AuthorizeSecurityGroupIngress with the same permission (not advised)".into();
            if ctx.b.planned(&key).is_some() {
                for fx in &fixes_here {
                    ctx.b.add_fix(&key, fx.clone());
                }
            } else {
                ctx.b.add(&key, step);
            }
        }
    }
}

/// The non-internet sources the attached groups allow on the port today.
fn carried_over(attached: &[&SecurityGroup], port: u16) -> Vec<Source> {
    let mut out = Vec::new();
    for g in attached {
        for p in g.ingress.iter().filter(|p| covers_port(p, port)) {
            out.extend(
                p.ipv4_ranges
                    .iter()
                    .filter(|c| !WORLD.contains(&c.as_str()))
                    .map(|c| Source::V4(c.clone())),
            );
            out.extend(
                p.ipv6_ranges
                    .iter()
                    .filter(|c| !WORLD.contains(&c.as_str()))
                    .map(|c| Source::V6(c.clone())),
            );
            out.extend(
                p.security_groups
                    .iter()
                    // A default group's self-reference is "everything in the VPC with no group".
                    .filter(|r| !(g.is_default() && r.group_id == g.group_id))
                    .map(|r| Source::Group(r.group_id.clone())),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}

fn vpc_of(ctx: &RegionPlan<'_, '_>, db: Db<'_>) -> Option<String> {
    let (vpc, subnet_group) = match db {
        Db::Instance(d) => (d.vpc_id.clone(), d.db_subnet_group_name.clone()),
        Db::Cluster(c) => (None, c.db_subnet_group.clone()),
    };
    vpc.or_else(|| {
        let name = subnet_group?;
        ctx.region
            .rds
            .db_subnet_groups
            .iter()
            .find(|g| g.name == name)
            .and_then(|g| g.vpc_id.clone())
    })
    .or_else(|| {
        // Members report their cluster's groups and subnet group.
        let Db::Cluster(c) = db else { return None };
        c.members
            .iter()
            .filter_map(|m| ctx.instance(&m.db_instance_identifier))
            .find_map(|d| d.vpc_id.clone())
    })
}

fn vpc_cidrs(ctx: &RegionPlan<'_, '_>, vpc: &str) -> Vec<String> {
    ctx.region
        .ec2
        .vpcs
        .iter()
        .find(|v| v.vpc_id == vpc)
        .map(|v| {
            v.cidr_blocks
                .iter()
                .chain(&v.ipv6_cidr_blocks)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

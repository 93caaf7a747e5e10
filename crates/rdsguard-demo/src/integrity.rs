//! Structural checks of a snapshot: unique identifiers, references that resolve, well-formed
//! ARNs and parseable policy documents. The demo and the generator are tested against it so
//! that what checks see is internally consistent, as a real collection would be.

use std::collections::{HashMap, HashSet};

use rdsguard_model::{AccountSnapshot, RegionSnapshot, Snapshot};

/// Every structural problem found, one line each; empty when the snapshot is consistent.
pub fn problems(snapshot: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for account in &snapshot.accounts {
        iam_problems(account, &mut out);
        for region in &account.regions {
            region_problems(account, region, &mut out);
        }
    }
    out
}

fn unique<'a>(
    kind: &str,
    region: &str,
    ids: impl Iterator<Item = &'a str>,
    out: &mut Vec<String>,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            out.push(format!("{region}: duplicate {kind} {id}"));
        }
    }
    seen
}

fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
}

fn region_problems(account: &AccountSnapshot, r: &RegionSnapshot, out: &mut Vec<String>) {
    let region = r.region.as_str();
    let acct = account.account_id.as_str();
    let ec2 = &r.ec2;
    let rds = &r.rds;

    let vpcs = unique(
        "VPC",
        region,
        ec2.vpcs.iter().map(|v| v.vpc_id.as_str()),
        out,
    );
    let subnets = unique(
        "subnet",
        region,
        ec2.subnets.iter().map(|s| s.subnet_id.as_str()),
        out,
    );
    let subnet_vpc: HashMap<&str, &str> = ec2
        .subnets
        .iter()
        .map(|s| (s.subnet_id.as_str(), s.vpc_id.as_str()))
        .collect();
    let groups = unique(
        "security group",
        region,
        ec2.security_groups.iter().map(|g| g.group_id.as_str()),
        out,
    );
    let prefix_lists: HashSet<&str> = ec2
        .managed_prefix_lists
        .iter()
        .map(|p| p.prefix_list_id.as_str())
        .collect();
    unique(
        "network interface",
        region,
        ec2.network_interfaces
            .iter()
            .map(|n| n.network_interface_id.as_str()),
        out,
    );
    unique(
        "route table",
        region,
        ec2.route_tables.iter().map(|t| t.route_table_id.as_str()),
        out,
    );
    unique(
        "network ACL",
        region,
        ec2.network_acls.iter().map(|a| a.network_acl_id.as_str()),
        out,
    );
    let gateways: HashSet<&str> = ec2
        .internet_gateways
        .iter()
        .chain(&ec2.egress_only_internet_gateways)
        .map(|g| g.id.as_str())
        .chain(ec2.nat_gateways.iter().map(|n| n.nat_gateway_id.as_str()))
        .chain(
            ec2.vpc_peering_connections
                .iter()
                .map(|p| p.vpc_peering_connection_id.as_str()),
        )
        .chain(["local"])
        .collect();

    for s in &ec2.subnets {
        if !vpcs.contains(s.vpc_id.as_str()) {
            out.push(format!(
                "{region}: subnet {} in unknown VPC {}",
                s.subnet_id, s.vpc_id
            ));
        }
    }
    for t in &ec2.route_tables {
        if !vpcs.contains(t.vpc_id.as_str()) {
            out.push(format!(
                "{region}: route table {} in unknown VPC",
                t.route_table_id
            ));
        }
        for route in &t.routes {
            for target in [
                &route.gateway_id,
                &route.nat_gateway_id,
                &route.egress_only_internet_gateway_id,
                &route.vpc_peering_connection_id,
            ]
            .into_iter()
            .flatten()
            {
                if !gateways.contains(target.as_str()) {
                    out.push(format!(
                        "{region}: route table {} targets unknown {target}",
                        t.route_table_id
                    ));
                }
            }
        }
        for a in &t.associations {
            if let Some(s) = &a.subnet_id
                && !subnets.contains(s.as_str())
            {
                out.push(format!(
                    "{region}: route table {} associates unknown subnet {s}",
                    t.route_table_id
                ));
            }
        }
    }
    // Every subnet has exactly one network ACL.
    let mut acl_of: HashMap<&str, usize> = HashMap::new();
    for acl in &ec2.network_acls {
        for s in &acl.subnet_ids {
            *acl_of.entry(s.as_str()).or_default() += 1;
        }
    }
    for s in &ec2.subnets {
        let n = acl_of.get(s.subnet_id.as_str()).copied().unwrap_or(0);
        if n != 1 {
            out.push(format!(
                "{region}: subnet {} is in {n} network ACLs",
                s.subnet_id
            ));
        }
    }
    for g in &ec2.security_groups {
        for perm in g.ingress.iter().chain(&g.egress) {
            for reference in &perm.security_groups {
                let local = reference.user_id.as_deref().is_none_or(|u| u == acct);
                if local && !groups.contains(reference.group_id.as_str()) {
                    out.push(format!(
                        "{region}: group {} references unknown group {}",
                        g.group_id, reference.group_id
                    ));
                }
            }
            for pl in &perm.prefix_list_ids {
                if !prefix_lists.contains(pl.as_str()) {
                    out.push(format!(
                        "{region}: group {} references unknown prefix list {pl}",
                        g.group_id
                    ));
                }
            }
        }
    }
    for eni in &ec2.network_interfaces {
        if let Some(s) = &eni.subnet_id
            && !subnets.contains(s.as_str())
        {
            out.push(format!(
                "{region}: ENI {} in unknown subnet {s}",
                eni.network_interface_id
            ));
        }
        for g in &eni.group_ids {
            if !groups.contains(g.as_str()) {
                out.push(format!(
                    "{region}: ENI {} has unknown group {g}",
                    eni.network_interface_id
                ));
            }
        }
    }

    // RDS.
    let instances = unique(
        "DB instance",
        region,
        rds.db_instances
            .iter()
            .map(|d| d.db_instance_identifier.as_str()),
        out,
    );
    unique(
        "DB cluster",
        region,
        rds.db_clusters
            .iter()
            .map(|c| c.db_cluster_identifier.as_str()),
        out,
    );
    let parameter_groups = unique(
        "parameter group",
        region,
        rds.db_parameter_groups.iter().map(|g| g.name.as_str()),
        out,
    );
    let cluster_parameter_groups = unique(
        "cluster parameter group",
        region,
        rds.db_cluster_parameter_groups
            .iter()
            .map(|g| g.name.as_str()),
        out,
    );
    let option_groups = unique(
        "option group",
        region,
        rds.option_groups.iter().map(|g| g.name.as_str()),
        out,
    );
    let subnet_groups = unique(
        "subnet group",
        region,
        rds.db_subnet_groups.iter().map(|g| g.name.as_str()),
        out,
    );
    unique(
        "DB snapshot",
        region,
        rds.db_snapshots.iter().map(|s| s.identifier.as_str()),
        out,
    );
    unique(
        "DB cluster snapshot",
        region,
        rds.db_cluster_snapshots
            .iter()
            .map(|s| s.identifier.as_str()),
        out,
    );
    unique(
        "DB proxy",
        region,
        rds.db_proxies.iter().map(|p| p.name.as_str()),
        out,
    );
    unique(
        "KMS key",
        region,
        r.kms.keys.iter().map(|k| k.key_id.as_str()),
        out,
    );

    for g in &rds.db_subnet_groups {
        for s in &g.subnet_ids {
            match subnet_vpc.get(s.as_str()) {
                None => out.push(format!(
                    "{region}: subnet group {} has unknown subnet {s}",
                    g.name
                )),
                Some(vpc) if g.vpc_id.as_deref() != Some(*vpc) => {
                    out.push(format!("{region}: subnet group {} mixes VPCs", g.name))
                }
                Some(_) => {}
            }
        }
    }
    let key_resolves = |what: &str, reference: &Option<String>, out: &mut Vec<String>| {
        if let Some(k) = reference
            && r.kms.resolve(k).is_none()
        {
            out.push(format!("{region}: {what} uses unknown KMS key {k}"));
        }
    };
    let rds_arn = |kind: &str, id: &str| format!("arn:aws:rds:{region}:{acct}:{kind}:{id}");

    for db in &rds.db_instances {
        let id = &db.db_instance_identifier;
        if db.db_instance_arn != rds_arn("db", id) {
            out.push(format!(
                "{region}: instance {id} has ARN {}",
                db.db_instance_arn
            ));
        }
        for g in db.security_group_ids() {
            if !groups.contains(g) {
                out.push(format!("{region}: instance {id} has unknown group {g}"));
            }
        }
        if let Some(sg) = &db.db_subnet_group_name
            && !subnet_groups.contains(sg.as_str())
        {
            out.push(format!(
                "{region}: instance {id} has unknown subnet group {sg}"
            ));
        }
        for pg in &db.db_parameter_groups {
            if !parameter_groups.contains(pg.name.as_str()) {
                out.push(format!(
                    "{region}: instance {id} has unknown parameter group {}",
                    pg.name
                ));
            }
        }
        for og in &db.option_group_memberships {
            if !option_groups.contains(og.name.as_str()) {
                out.push(format!(
                    "{region}: instance {id} has unknown option group {}",
                    og.name
                ));
            }
        }
        key_resolves(&format!("instance {id}"), &db.kms_key_id, out);
        key_resolves(
            &format!("instance {id} PI"),
            &db.performance_insights_kms_key_id,
            out,
        );
        if db.storage_encrypted != db.kms_key_id.is_some() {
            out.push(format!(
                "{region}: instance {id} encryption flag and key disagree"
            ));
        }
        if let Some(c) = &db.db_cluster_identifier {
            let listed = rds.db_clusters.iter().any(|cl| {
                &cl.db_cluster_identifier == c
                    && cl.members.iter().any(|m| &m.db_instance_identifier == id)
            });
            if !listed {
                out.push(format!(
                    "{region}: instance {id} claims cluster {c} which does not list it"
                ));
            }
        }
        if let Some(source) = &db.read_replica_source_db_instance_identifier
            && !instances.contains(source.as_str())
        {
            out.push(format!("{region}: replica {id} of unknown source {source}"));
        }
    }
    for c in &rds.db_clusters {
        let id = &c.db_cluster_identifier;
        if c.db_cluster_arn != rds_arn("cluster", id) {
            out.push(format!(
                "{region}: cluster {id} has ARN {}",
                c.db_cluster_arn
            ));
        }
        for m in &c.members {
            if !instances.contains(m.db_instance_identifier.as_str()) {
                out.push(format!(
                    "{region}: cluster {id} lists unknown member {}",
                    m.db_instance_identifier
                ));
            }
        }
        for g in c.security_group_ids() {
            if !groups.contains(g) {
                out.push(format!("{region}: cluster {id} has unknown group {g}"));
            }
        }
        if let Some(sg) = &c.db_subnet_group
            && !subnet_groups.contains(sg.as_str())
        {
            out.push(format!(
                "{region}: cluster {id} has unknown subnet group {sg}"
            ));
        }
        if let Some(pg) = &c.db_cluster_parameter_group
            && !cluster_parameter_groups.contains(pg.as_str())
        {
            out.push(format!(
                "{region}: cluster {id} has unknown cluster parameter group {pg}"
            ));
        }
        key_resolves(&format!("cluster {id}"), &c.kms_key_id, out);
    }
    for (kind, list) in [
        ("snapshot", &rds.db_snapshots),
        ("cluster-snapshot", &rds.db_cluster_snapshots),
    ] {
        for s in list {
            if s.arn != rds_arn(kind, &s.identifier) {
                out.push(format!(
                    "{region}: {kind} {} has ARN {}",
                    s.identifier, s.arn
                ));
            }
            key_resolves(&format!("{kind} {}", s.identifier), &s.kms_key_id, out);
            if s.is_automated() && s.restore.is_some() {
                out.push(format!(
                    "{region}: automated {kind} {} has restore attributes",
                    s.identifier
                ));
            }
        }
    }
    for p in &rds.db_proxies {
        for g in &p.vpc_security_group_ids {
            if !groups.contains(g.as_str()) {
                out.push(format!("{region}: proxy {} has unknown group {g}", p.name));
            }
        }
        for s in &p.vpc_subnet_ids {
            if !subnets.contains(s.as_str()) {
                out.push(format!("{region}: proxy {} has unknown subnet {s}", p.name));
            }
        }
    }

    // KMS.
    for k in &r.kms.keys {
        if k.arn != format!("arn:aws:kms:{region}:{acct}:key/{}", k.key_id) {
            out.push(format!("{region}: key {} has ARN {}", k.key_id, k.arn));
        }
        if let Some(policy) = &k.policy
            && !is_json(policy)
        {
            out.push(format!("{region}: key {} policy is not JSON", k.key_id));
        }
    }
    for a in &r.kms.aliases {
        let target = a.target_key_id.as_deref().unwrap_or_default();
        if !r.kms.keys.iter().any(|k| k.key_id == target) {
            out.push(format!(
                "{region}: alias {} targets unknown key",
                a.alias_name
            ));
        }
    }
}

fn iam_problems(account: &AccountSnapshot, out: &mut Vec<String>) {
    let Some(iam) = &account.iam else {
        return;
    };
    let acct = account.account_id.as_str();
    let policies = unique(
        "policy",
        "iam",
        iam.policies.iter().map(|p| p.arn.as_str()),
        out,
    );
    let groups = unique(
        "group",
        "iam",
        iam.groups.iter().map(|g| g.name.as_str()),
        out,
    );
    unique(
        "user",
        "iam",
        iam.users.iter().map(|u| u.name.as_str()),
        out,
    );
    unique(
        "role",
        "iam",
        iam.roles.iter().map(|r| r.name.as_str()),
        out,
    );
    let own_prefix = format!("arn:aws:iam::{acct}:");
    for p in &iam.policies {
        if !(p.arn.starts_with(&own_prefix) || p.arn.starts_with("arn:aws:iam::aws:policy/")) {
            out.push(format!("iam: policy ARN {} is malformed", p.arn));
        }
        if p.document.as_deref().is_some_and(|d| !is_json(d)) {
            out.push(format!("iam: policy {} document is not JSON", p.arn));
        }
    }
    let check_attached = |who: &str, arns: &[String], out: &mut Vec<String>| {
        for a in arns {
            if !policies.contains(a.as_str()) {
                out.push(format!("iam: {who} has unknown policy {a}"));
            }
        }
    };
    for u in &iam.users {
        if !u.arn.starts_with(&format!("{own_prefix}user/")) {
            out.push(format!("iam: user ARN {} is malformed", u.arn));
        }
        check_attached(&format!("user {}", u.name), &u.attached_policy_arns, out);
        if let Some(b) = &u.permissions_boundary_arn {
            check_attached(
                &format!("user {} boundary", u.name),
                std::slice::from_ref(b),
                out,
            );
        }
        for g in &u.groups {
            if !groups.contains(g.as_str()) {
                out.push(format!("iam: user {} in unknown group {g}", u.name));
            }
        }
        for p in &u.inline_policies {
            if !is_json(&p.document) {
                out.push(format!(
                    "iam: user {} inline policy {} is not JSON",
                    u.name, p.name
                ));
            }
        }
    }
    for g in &iam.groups {
        check_attached(&format!("group {}", g.name), &g.attached_policy_arns, out);
    }
    for r in &iam.roles {
        if !r.arn.starts_with(&format!("{own_prefix}role/")) {
            out.push(format!("iam: role ARN {} is malformed", r.arn));
        }
        check_attached(&format!("role {}", r.name), &r.attached_policy_arns, out);
        for doc in r
            .assume_role_policy_document
            .iter()
            .chain(r.inline_policies.iter().map(|p| &p.document))
        {
            if !is_json(doc) {
                out.push(format!(
                    "iam: role {} has a policy that is not JSON",
                    r.name
                ));
            }
        }
    }
}

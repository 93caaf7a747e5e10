//! The seeded scenario, collected: every fact asserted precisely, then the checks run on it.

use std::collections::{BTreeMap, BTreeSet};

use rdsguard_findings::Status;
use rdsguard_model::{GapKind, RegionSnapshot, Snapshot, ops};
use serde_json::Value;

use crate::seed::{self, Seeded};
use crate::support::*;
use crate::{collect_account, seeded};

fn region(snap: &Snapshot) -> &RegionSnapshot {
    assert_eq!(snap.accounts.len(), 1);
    assert_eq!(snap.accounts[0].regions.len(), 1);
    &snap.accounts[0].regions[0]
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    items.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn seeded_account_is_collected_exactly() {
    let Some(ep) = endpoint() else { return };
    let s = seeded(&ep);
    let (snap, stats) = collect_account(&s.account, &ep, &ep).await;

    let account = &snap.accounts[0];
    assert_eq!(account.account_id, s.account);
    assert_eq!(account.partition, "aws");
    assert!(account.gaps.is_empty(), "{:#?}", account.gaps);
    assert_eq!(snap.source.kind, "live");
    assert_eq!(snap.source.endpoint_url.as_deref(), Some(ep.as_str()));
    assert_eq!(snap.source.regions, vec![REGION.to_string()]);
    let r = region(&snap);
    assert_eq!(r.region, REGION);

    assert_rds(r, &s);
    assert_ec2(r, &s);
    assert_kms(r, &s);
    assert_iam(account.iam.as_ref().expect("IAM collected"), &s);
    assert_logging(r, &s);

    // Exactly the operations moto does not implement are gaps, as Unsupported, with the
    // resource for per-engine calls; nothing is silently an empty list.
    let gaps: BTreeSet<(String, Option<String>, String)> = r
        .gaps
        .iter()
        .map(|g| (g.op_name(), g.resource.clone(), format!("{:?}", g.kind)))
        .collect();
    let unsupported = |op: rdsguard_model::Op, res: Option<&str>| {
        (
            op.to_string(),
            res.map(str::to_string),
            format!("{:?}", GapKind::Unsupported),
        )
    };
    let expected: BTreeSet<_> = [
        unsupported(ops::RDS_DESCRIBE_CERTIFICATES, None),
        // moto 5.2.5 fails DescribeOptionGroups without OptionGroupName (KeyError, HTML 500).
        unsupported(ops::RDS_DESCRIBE_OPTION_GROUPS, None),
        unsupported(
            ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS,
            Some("aurora-postgresql"),
        ),
        unsupported(ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS, Some("mysql")),
        unsupported(ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS, Some("oracle-ee")),
        unsupported(ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS, Some("postgres")),
        unsupported(ops::SECURITYHUB_GET_ENABLED_STANDARDS, None),
        unsupported(ops::BACKUP_LIST_PROTECTED_RESOURCES, None),
    ]
    .into_iter()
    .collect();
    assert_eq!(gaps, expected);
    for g in &r.gaps {
        assert_eq!(g.region.as_deref(), Some(REGION));
        assert!(!g.message.is_empty() && !g.message.contains('\n'));
    }
    assert!(r.rds.option_groups.is_empty() && r.rds.certificates.is_empty());
    assert!(r.rds.engine_versions.is_empty());

    assert_eq!(stats.gaps, 8);
    assert_eq!(stats.regions, 1);
    // Without retries every request is one HTTP attempt.
    assert_eq!(stats.api_calls, stats.http_attempts);
    assert!(stats.api_calls > 40, "{stats:?}");
}

fn assert_rds(r: &RegionSnapshot, s: &Seeded) {
    let rds = &r.rds;
    let ids = set(rds
        .db_instances
        .iter()
        .map(|d| d.db_instance_identifier.as_str()));
    assert_eq!(
        ids,
        set([
            "pg-public",
            "pg-encrypted",
            "mysql-1",
            "oracle-1",
            "aurora-pg-1",
            "aurora-pg-2"
        ])
    );
    let db = |id: &str| {
        rds.db_instances
            .iter()
            .find(|d| d.db_instance_identifier == id)
            .unwrap()
    };

    let p = db("pg-public");
    assert_eq!(
        p.db_instance_arn,
        format!("arn:aws:rds:{REGION}:{}:db:pg-public", s.account)
    );
    assert_eq!(
        (p.engine.as_str(), p.engine_version.as_str()),
        ("postgres", "16.3")
    );
    assert!(p.publicly_accessible && !p.storage_encrypted && p.kms_key_id.is_none());
    assert_eq!(p.port, Some(5432));
    assert_eq!(p.db_subnet_group_name.as_deref(), Some("db-public"));
    assert_eq!(p.vpc_id.as_deref(), Some(s.vpc_id.as_str()));
    assert_eq!(
        p.security_group_ids().collect::<Vec<_>>(),
        vec![s.sg_public.as_str()]
    );
    assert_eq!(p.db_parameter_groups.len(), 1);
    assert_eq!(p.db_parameter_groups[0].name, "pg-insecure");
    assert_eq!(p.backup_retention_period, 1);
    assert!(!p.deletion_protection && !p.iam_database_authentication_enabled);
    assert_eq!(p.master_username.as_deref(), Some("postgres"));
    assert_eq!(
        p.tags,
        BTreeMap::from([
            ("env".to_string(), "prod".to_string()),
            ("owner".to_string(), "team-a".to_string())
        ])
    );
    assert!(
        p.endpoint_address
            .as_deref()
            .unwrap()
            .starts_with("pg-public.")
    );
    assert!(p.instance_create_time.is_some());

    let e = db("pg-encrypted");
    assert!(e.storage_encrypted && !e.publicly_accessible);
    assert_eq!(e.kms_key_id.as_deref(), Some(s.key_arn.as_str()));
    assert!(e.deletion_protection && e.iam_database_authentication_enabled);
    assert!(e.copy_tags_to_snapshot);
    assert_eq!(e.enabled_cloudwatch_logs_exports, vec!["postgresql"]);
    assert_eq!(e.backup_retention_period, 14);
    assert_eq!(
        e.ca_certificate_identifier.as_deref(),
        Some("rds-ca-rsa2048-g1")
    );
    assert_eq!(e.db_subnet_group_name.as_deref(), Some("db-private"));
    assert_eq!(
        e.security_group_ids().collect::<Vec<_>>(),
        vec![s.sg_private.as_str()]
    );

    assert!(db("mysql-1").multi_az);
    assert_eq!(db("mysql-1").engine, "mysql");
    let oracle = db("oracle-1");
    assert_eq!(oracle.engine, "oracle-ee");
    assert_eq!(oracle.option_group_memberships.len(), 1);
    assert_eq!(oracle.option_group_memberships[0].name, "og-oracle-tde");

    for (id, az) in [("aurora-pg-1", "us-east-1a"), ("aurora-pg-2", "us-east-1b")] {
        let m = db(id);
        assert_eq!(m.db_cluster_identifier.as_deref(), Some("aurora-pg"));
        assert!(m.is_cluster_member());
        assert_eq!(m.availability_zone.as_deref(), Some(az));
    }

    assert_eq!(rds.db_clusters.len(), 1);
    let c = &rds.db_clusters[0];
    assert_eq!(c.db_cluster_identifier, "aurora-pg");
    assert!(c.is_aurora());
    assert_eq!(
        (c.engine.as_str(), c.engine_version.as_str()),
        ("aurora-postgresql", "15.4")
    );
    assert_eq!(
        set(c.members.iter().map(|m| m.db_instance_identifier.as_str())),
        set(["aurora-pg-1", "aurora-pg-2"])
    );
    assert_eq!(c.members.iter().filter(|m| m.is_cluster_writer).count(), 1);
    assert!(c.multi_az && c.storage_encrypted && c.deletion_protection);
    assert_eq!(c.kms_key_id.as_deref(), Some(s.key_arn.as_str()));
    assert_eq!(c.db_cluster_parameter_group.as_deref(), Some("cpg-aurora"));
    assert_eq!(c.db_subnet_group.as_deref(), Some("db-private"));
    assert_eq!(c.port, Some(5432));
    assert_eq!(c.backup_retention_period, 7);
    assert_eq!(c.master_username.as_deref(), Some("clusteradmin"));
    assert_eq!(c.tags.get("env").map(String::as_str), Some("prod"));

    // Snapshots: moto makes one automated snapshot per instance; only manual ones have
    // their restore attribute read.
    let automated: Vec<_> = rds
        .db_snapshots
        .iter()
        .filter(|x| x.is_automated())
        .collect();
    assert_eq!(automated.len(), 6);
    assert!(automated.iter().all(|x| x.restore.is_none()));
    let snap = |id: &str| {
        rds.db_snapshots
            .iter()
            .find(|x| x.identifier == id)
            .unwrap()
    };
    let public = snap("snap-public");
    assert_eq!(public.snapshot_type, "manual");
    assert_eq!(public.source_identifier.as_deref(), Some("pg-public"));
    let restore = public.restore.as_ref().expect("restore attribute read");
    assert!(restore.public && restore.shared_with.is_empty());
    assert_eq!(
        public.tags.get("purpose").map(String::as_str),
        Some("migration")
    );
    assert!(!public.encrypted);
    let shared = snap("snap-shared").restore.as_ref().expect("restore read");
    assert!(!shared.public);
    assert_eq!(shared.shared_with, vec![seed::SHARED_WITH]);
    assert_eq!(rds.db_snapshots.len(), 8);

    let csnap = rds
        .db_cluster_snapshots
        .iter()
        .find(|x| x.identifier == "csnap-aurora")
        .unwrap();
    assert!(csnap.encrypted);
    assert_eq!(csnap.source_identifier.as_deref(), Some("aurora-pg"));
    let crestore = csnap.restore.as_ref().expect("cluster restore read");
    assert!(!crestore.public);
    assert_eq!(crestore.shared_with, vec![seed::CLUSTER_SHARED_WITH]);
    assert!(
        rds.db_cluster_snapshots
            .iter()
            .filter(|x| x.is_automated())
            .all(|x| x.restore.is_none())
    );

    // Parameter groups: each listed once; only security parameters kept.
    let names: Vec<&str> = rds
        .db_parameter_groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(names.len(), set(names.iter().copied()).len(), "{names:?}");
    let insecure = rds
        .db_parameter_groups
        .iter()
        .find(|g| g.name == "pg-insecure")
        .unwrap();
    assert_eq!(insecure.family, "postgres16");
    assert_eq!(insecure.description.as_deref(), Some("TLS not enforced"));
    assert_eq!(
        insecure
            .parameters
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["log_connections", "rds.force_ssl"]
    );
    assert_eq!(insecure.value("rds.force_ssl"), Some("0"));
    assert_eq!(rds.db_cluster_parameter_groups.len(), 1);
    let cpg = &rds.db_cluster_parameter_groups[0];
    assert_eq!(
        (cpg.name.as_str(), cpg.family.as_str()),
        ("cpg-aurora", "aurora-postgresql15")
    );
    assert_eq!(cpg.value("rds.force_ssl"), Some("1"));

    let subnet_groups: BTreeMap<&str, BTreeSet<&str>> = rds
        .db_subnet_groups
        .iter()
        .map(|g| {
            assert_eq!(g.vpc_id.as_deref(), Some(s.vpc_id.as_str()));
            (
                g.name.as_str(),
                set(g.subnet_ids.iter().map(String::as_str)),
            )
        })
        .collect();
    assert_eq!(
        subnet_groups,
        BTreeMap::from([
            (
                "db-private",
                set(s.private_subnets.iter().map(String::as_str))
            ),
            (
                "db-public",
                set(s.public_subnets.iter().map(String::as_str))
            ),
        ])
    );

    let private_group = rds
        .db_subnet_groups
        .iter()
        .find(|g| g.name == "db-private")
        .unwrap();
    assert_eq!(
        private_group.tags.get("tier").map(String::as_str),
        Some("data")
    );
    assert!(
        rds.db_subnet_groups
            .iter()
            .find(|g| g.name == "db-public")
            .unwrap()
            .tags
            .is_empty()
    );

    assert_eq!(rds.db_proxies.len(), 1);
    let proxy = &rds.db_proxies[0];
    assert_eq!(proxy.tags.get("team").map(String::as_str), Some("db"));
    assert_eq!(
        (proxy.name.as_str(), proxy.engine_family.as_str()),
        ("proxy-1", "POSTGRESQL")
    );
    assert!(!proxy.require_tls);
    assert_eq!(proxy.vpc_security_group_ids, vec![s.sg_private.clone()]);
    assert_eq!(proxy.auth.len(), 1);
    assert_eq!(proxy.auth[0].iam_auth.as_deref(), Some("DISABLED"));
    assert_eq!(proxy.auth[0].auth_scheme.as_deref(), Some("SECRETS"));
    assert!(
        proxy.auth[0]
            .secret_arn
            .as_deref()
            .unwrap()
            .contains(":secret:db-proxy")
    );

    assert_eq!(rds.event_subscriptions.len(), 1);
    let sub = &rds.event_subscriptions[0];
    assert_eq!(sub.name, "rdsguard-events");
    assert_eq!(sub.source_type.as_deref(), Some("db-instance"));
    assert_eq!(sub.event_categories, vec!["failure", "low storage"]);
    assert!(sub.enabled && sub.source_ids.is_empty());
}

fn assert_ec2(r: &RegionSnapshot, s: &Seeded) {
    let ec2 = &r.ec2;
    let vpc = ec2.vpcs.iter().find(|v| v.vpc_id == s.vpc_id).unwrap();
    assert_eq!(vpc.cidr_blocks, vec!["10.20.0.0/16"]);
    assert!(!vpc.is_default);
    assert_eq!(vpc.owner_id.as_deref(), Some(s.account.as_str()));
    assert!(ec2.vpcs.iter().any(|v| v.is_default), "moto's default VPC");

    let ours: Vec<_> = ec2
        .subnets
        .iter()
        .filter(|x| x.vpc_id == s.vpc_id)
        .collect();
    assert_eq!(ours.len(), 4);
    let first = ours
        .iter()
        .find(|x| x.subnet_id == s.public_subnets[0])
        .unwrap();
    assert_eq!(first.cidr_block.as_deref(), Some("10.20.1.0/24"));
    assert_eq!(first.availability_zone.as_deref(), Some("us-east-1a"));

    assert_eq!(ec2.internet_gateways.len(), 1);
    assert_eq!(ec2.internet_gateways[0].id, s.igw_id);
    assert_eq!(
        ec2.internet_gateways[0].attached_vpc_ids,
        vec![s.vpc_id.clone()]
    );

    let rt = ec2
        .route_tables
        .iter()
        .find(|t| t.route_table_id == s.public_route_table)
        .unwrap();
    let to_igw: BTreeSet<String> = rt
        .routes
        .iter()
        .filter(|x| x.gateway_id.as_deref() == Some(s.igw_id.as_str()))
        .map(|x| {
            x.destination_cidr_block
                .clone()
                .or(x.destination_ipv6_cidr_block.clone())
                .unwrap()
        })
        .collect();
    assert_eq!(
        to_igw,
        BTreeSet::from(["0.0.0.0/0".to_string(), "::/0".to_string()])
    );
    assert_eq!(
        set(rt
            .associations
            .iter()
            .filter_map(|a| a.subnet_id.as_deref())),
        set(s.public_subnets.iter().map(String::as_str))
    );
    assert!(
        ec2.route_tables
            .iter()
            .any(|t| t.vpc_id == s.vpc_id && t.associations.iter().any(|a| a.main)),
        "the VPC's main route table"
    );

    let acl = ec2
        .network_acls
        .iter()
        .find(|a| a.network_acl_id == s.nacl_id)
        .unwrap();
    assert!(!acl.is_default);
    assert_eq!(acl.subnet_ids, vec![s.private_subnets[0].clone()]);
    let allow = acl
        .entries
        .iter()
        .find(|e| e.rule_number == 100 && !e.egress)
        .unwrap();
    assert_eq!(
        (allow.protocol.as_str(), allow.rule_action.as_str()),
        ("6", "allow")
    );
    assert_eq!(allow.cidr_block.as_deref(), Some("10.20.0.0/16"));
    let range = allow.port_range.as_ref().unwrap();
    assert_eq!((range.from, range.to), (5432, 5432));
    let deny = acl
        .entries
        .iter()
        .find(|e| e.rule_number == 200 && !e.egress)
        .unwrap();
    assert_eq!(
        (deny.protocol.as_str(), deny.rule_action.as_str()),
        ("-1", "deny")
    );

    let sg = |id: &str| {
        ec2.security_groups
            .iter()
            .find(|g| g.group_id == id)
            .unwrap()
    };
    let public = sg(&s.sg_public);
    assert_eq!(public.group_name, "db-public");
    assert_eq!(public.ingress.len(), 1);
    let open = &public.ingress[0];
    assert_eq!(
        (open.ip_protocol.as_str(), open.from_port, open.to_port),
        ("tcp", Some(5432), Some(5432))
    );
    assert_eq!(open.ipv4_ranges, vec!["0.0.0.0/0"]);
    assert_eq!(open.ipv6_ranges, vec!["::/0"]);
    assert_eq!(public.egress.len(), 1);
    assert_eq!(public.egress[0].ip_protocol, "-1");

    let private = sg(&s.sg_private);
    let by_port = |port: i32| {
        private
            .ingress
            .iter()
            .find(|p| p.from_port == Some(port))
            .unwrap()
    };
    let refs = &by_port(3306).security_groups;
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].group_id, s.sg_app);
    assert_eq!(refs[0].user_id.as_deref(), Some(s.account.as_str()));
    assert_eq!(refs[0].description.as_deref(), Some("from app"));
    assert_eq!(
        by_port(5432).prefix_list_ids,
        vec![s.prefix_list_id.clone()]
    );
    assert!(sg(&s.sg_app).ingress.is_empty());

    // The customer list (referenced by a rule) has its entries; AWS lists nobody references
    // are listed without entries.
    let office = ec2
        .managed_prefix_lists
        .iter()
        .find(|l| l.prefix_list_id == s.prefix_list_id)
        .unwrap();
    assert_eq!(office.prefix_list_name.as_deref(), Some("office"));
    assert_eq!(office.owner_id.as_deref(), Some(s.account.as_str()));
    let entries = office.entries.as_ref().expect("entries read");
    assert_eq!(
        set(entries.iter().map(|e| e.cidr.as_str())),
        set(["203.0.113.0/24", "198.51.100.0/24"])
    );
    let aws_lists: Vec<_> = ec2
        .managed_prefix_lists
        .iter()
        .filter(|l| l.owner_id.as_deref() == Some("AWS"))
        .collect();
    assert!(!aws_lists.is_empty());
    assert!(aws_lists.iter().all(|l| l.entries.is_none()));

    // moto creates no ENIs for RDS and there is no peering or NAT in the scenario.
    assert!(ec2.network_interfaces.is_empty());
    assert!(ec2.vpc_peering_connections.is_empty() && ec2.nat_gateways.is_empty());
}

fn assert_kms(r: &RegionSnapshot, s: &Seeded) {
    let kms = &r.kms;
    assert_eq!(kms.keys.len(), 1);
    let k = &kms.keys[0];
    assert_eq!(
        (k.key_id.as_str(), k.arn.as_str()),
        (s.key_id.as_str(), s.key_arn.as_str())
    );
    assert_eq!(k.is_customer_managed(), Some(true));
    assert_eq!(k.key_state.as_deref(), Some("Enabled"));
    assert_eq!(k.key_spec.as_deref(), Some("SYMMETRIC_DEFAULT"));
    assert_eq!(k.origin.as_deref(), Some("AWS_KMS"));
    assert_eq!(k.description.as_deref(), Some("rdsguard test CMK"));
    assert_eq!(k.rotation_enabled, Some(false));
    assert_eq!(k.grants_count, Some(1));
    let grants = k.grants.as_deref().expect("grants listed");
    assert_eq!(grants.len(), 1);
    let g = &grants[0];
    assert_eq!(g.grantee_principal.as_deref(), Some(seed::VENDOR_GRANTEE));
    assert_eq!(g.name.as_deref(), Some("vendor-export"));
    let mut ops = g.operations.clone();
    ops.sort();
    assert_eq!(ops, vec!["Decrypt", "DescribeKey"]);
    assert_eq!(
        g.encryption_context_subset
            .as_ref()
            .and_then(|c| c.get("app"))
            .map(String::as_str),
        Some("orders")
    );
    assert_eq!(k.aliases, vec!["alias/rdsguard-test"]);
    let policy = json(k.policy.as_deref().expect("key policy read"));
    assert_eq!(
        policy["Statement"][0]["Principal"]["AWS"],
        Value::String(format!("arn:aws:iam::{}:root", s.account))
    );
    assert!(
        kms.aliases
            .iter()
            .any(|a| a.alias_name == "alias/rdsguard-test"
                && a.target_key_id.as_deref() == Some(s.key_id.as_str()))
    );
    assert_eq!(
        kms.resolve("alias/rdsguard-test").map(|k| &k.arn),
        Some(&s.key_arn)
    );
}

fn assert_iam(iam: &rdsguard_model::IamData, s: &Seeded) {
    assert_eq!(iam.users.len(), 1);
    let alice = &iam.users[0];
    assert_eq!(alice.name, "alice");
    assert_eq!(alice.arn, format!("arn:aws:iam::{}:user/alice", s.account));
    assert_eq!(alice.groups, vec!["dbas"]);
    assert_eq!(alice.inline_policies.len(), 1);
    assert_eq!(alice.inline_policies[0].name, "inline-kms");
    assert_eq!(
        json(&alice.inline_policies[0].document),
        json(seed::INLINE_KMS_POLICY)
    );
    assert_eq!(
        alice.attached_policy_arns,
        vec![s.managed_policy_arn.clone()]
    );
    assert!(alice.permissions_boundary_arn.is_none());

    assert_eq!(iam.groups.len(), 1);
    let g = &iam.groups[0];
    assert_eq!(g.name, "dbas");
    assert_eq!(g.attached_policy_arns, vec![s.managed_policy_arn.clone()]);
    assert_eq!(g.inline_policies[0].name, "group-inline");

    assert_eq!(iam.roles.len(), 1);
    let role = &iam.roles[0];
    assert_eq!(role.name, "db-operator");
    assert_eq!(
        role.permissions_boundary_arn.as_deref(),
        Some(s.boundary_arn.as_str())
    );
    assert_eq!(
        json(role.assume_role_policy_document.as_deref().unwrap()),
        json(seed::TRUST_POLICY)
    );
    assert_eq!(
        json(&role.inline_policies[0].document),
        json(seed::RDS_ADMIN_POLICY)
    );
    assert_eq!(
        role.attached_policy_arns,
        vec![s.managed_policy_arn.clone()]
    );

    assert_eq!(iam.policies.len(), 2);
    let admin = iam.policy(&s.managed_policy_arn).unwrap();
    assert_eq!(admin.name.as_deref(), Some("rds-admin"));
    assert_eq!(admin.default_version_id.as_deref(), Some("v1"));
    assert_eq!(
        json(admin.document.as_deref().unwrap()),
        json(seed::RDS_ADMIN_POLICY)
    );
    assert_eq!(admin.attachment_count, Some(3));
    let boundary = iam.policy(&s.boundary_arn).unwrap();
    assert_eq!(boundary.path.as_deref(), Some("/boundaries/"));
    assert_eq!(
        json(boundary.document.as_deref().unwrap()),
        json(seed::BOUNDARY_POLICY)
    );
}

fn assert_logging(r: &RegionSnapshot, s: &Seeded) {
    let trails = &r.cloudtrail.trails;
    assert_eq!(trails.len(), 2);
    let main = trails.iter().find(|t| t.trail_arn == s.trail_arn).unwrap();
    assert_eq!(main.name, "main-trail");
    assert!(main.is_multi_region_trail && main.log_file_validation_enabled);
    assert_eq!(main.home_region.as_deref(), Some(REGION));
    assert_eq!(main.is_logging, Some(true));
    let m = main.management_events.as_ref().unwrap();
    assert!(m.write && !m.read);
    assert_eq!(m.excluded_event_sources, vec!["kms.amazonaws.com"]);
    let quiet = trails
        .iter()
        .find(|t| t.trail_arn == s.quiet_trail_arn)
        .unwrap();
    assert_eq!(quiet.is_logging, Some(false));
    assert!(!quiet.is_multi_region_trail && !quiet.log_file_validation_enabled);
    let q = quiet.management_events.as_ref().unwrap();
    assert!(q.read && !q.write);

    assert_eq!(r.securityhub.enabled, Some(true));
    assert_eq!(
        r.securityhub.hub_arn.as_deref(),
        Some(format!("arn:aws:securityhub:{REGION}:{}:hub/default", s.account).as_str())
    );
    // GetEnabledStandards is not implemented by moto: unknown, not empty.
    assert!(r.securityhub.enabled_standards.is_none());
    assert!(r.backup.protected_resource_arns.is_none());
}

/// What a check must say about a seeded resource. `NotAssessedOnMoto` names the operation moto
/// does not implement that makes the answer unknown: when moto (or the check) changes, the
/// test fails and the row is tightened to `Fail`/`Pass`.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Fail,
    Pass,
    NotAssessedOnMoto(&'static str),
}

/// Seeded problems and their expected outcome, by check id and resource id (`{key}` is the
/// KMS key id). Rows of checks that are not in the catalogue are skipped, so the table
/// tightens as checks land.
const EXPECTED: &[(&str, &str, Expect)] = &[
    ("rds_instance_storage_encrypted", "pg-public", Expect::Fail),
    ("rds_instance_storage_encrypted", "mysql-1", Expect::Fail),
    ("rds_instance_storage_encrypted", "oracle-1", Expect::Fail),
    (
        "rds_instance_storage_encrypted",
        "pg-encrypted",
        Expect::Pass,
    ),
    (
        "rds_instance_storage_encrypted",
        "aurora-pg-1",
        Expect::Pass,
    ),
    ("rds_cluster_storage_encrypted", "aurora-pg", Expect::Pass),
    ("rds_instance_no_public_access", "pg-public", Expect::Fail),
    (
        "rds_instance_no_public_access",
        "pg-encrypted",
        Expect::Pass,
    ),
    ("rds_db_port_open_to_internet", "pg-public", Expect::Fail),
    ("rds_security_group_broad_cidr", "pg-public", Expect::Fail),
    (
        "rds_instance_not_in_public_subnet",
        "pg-public",
        Expect::Fail,
    ),
    ("rds_subnet_group_public_subnet", "db-public", Expect::Fail),
    ("rds_subnet_group_public_subnet", "db-private", Expect::Pass),
    ("rds_snapshot_public", "snap-public", Expect::Fail),
    ("rds_snapshot_public", "snap-shared", Expect::Pass),
    ("rds_snapshot_public", "csnap-aurora", Expect::Pass),
    (
        "rds_snapshot_shared_with_untrusted_account",
        "snap-shared",
        Expect::Fail,
    ),
    (
        "rds_snapshot_shared_with_untrusted_account",
        "csnap-aurora",
        Expect::Fail,
    ),
    ("rds_snapshot_encrypted", "snap-public", Expect::Fail),
    ("rds_snapshot_encrypted", "csnap-aurora", Expect::Pass),
    ("rds_kms_key_rotation_enabled", "{key}", Expect::Fail),
    (
        "rds_instance_tls_enforced",
        "pg-public",
        Expect::NotAssessedOnMoto("rds:DescribeOptionGroups"),
    ),
    ("rds_cluster_tls_enforced", "aurora-pg", Expect::Pass),
    (
        "rds_instance_oracle_tde",
        "oracle-1",
        Expect::NotAssessedOnMoto("rds:DescribeOptionGroups"),
    ),
    ("rds_proxy_tls_required", "proxy-1", Expect::Fail),
    (
        "rds_instance_deletion_protection",
        "pg-public",
        Expect::Fail,
    ),
    (
        "rds_instance_deletion_protection",
        "pg-encrypted",
        Expect::Pass,
    ),
    ("rds_instance_iam_authentication", "pg-public", Expect::Fail),
    (
        "rds_instance_iam_authentication",
        "pg-encrypted",
        Expect::Pass,
    ),
    ("rds_instance_multi_az", "mysql-1", Expect::Pass),
    ("rds_instance_multi_az", "pg-public", Expect::Fail),
    ("rds_cluster_multi_az", "aurora-pg", Expect::Pass),
    (
        "rds_instance_deprecated_engine_version",
        "pg-public",
        Expect::NotAssessedOnMoto("rds:DescribeDBEngineVersions"),
    ),
    (
        "cloudtrail_log_file_validation",
        "quiet-trail",
        Expect::Fail,
    ),
    ("cloudtrail_log_file_validation", "main-trail", Expect::Pass),
    (
        "cloudtrail_rds_management_events_recorded",
        REGION,
        Expect::Pass,
    ),
    ("securityhub_enabled", REGION, Expect::Pass),
];

#[tokio::test(flavor = "multi_thread")]
async fn seeded_problems_fail_their_checks() {
    let Some(ep) = endpoint() else { return };
    let s = seeded(&ep);
    let (snap, _) = collect_account(&s.account, &ep, &ep).await;
    let findings = rdsguard_checks::evaluate(&snap, &rdsguard_checks::Config::default());
    let catalogue: BTreeSet<String> = rdsguard_checks::catalogue()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert!(catalogue.contains("rds_instance_storage_encrypted"));

    let mut checked = 0;
    for &(check, resource, expect) in EXPECTED {
        if !catalogue.contains(check) {
            eprintln!("note: {check} is not in the catalogue yet; row skipped");
            continue;
        }
        let resource = resource.replace("{key}", &s.key_id);
        // A whole-region NOT_ASSESSED stands for every resource of the region.
        let scope_wide = matches!(expect, Expect::NotAssessedOnMoto(_));
        let matching: Vec<_> = findings
            .iter()
            .filter(|f| {
                f.check_id == check
                    && (f.resource.id == resource
                        || (scope_wide
                            && f.resource.id.starts_with("all ")
                            && f.resource.region.as_deref() == Some(REGION)))
            })
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "{check} on {resource}: expected one finding, got {matching:#?}"
        );
        let f = matching[0];
        match expect {
            Expect::Fail => assert_eq!(f.status, Status::Fail, "{check} on {resource}: {f:#?}"),
            Expect::Pass => assert_eq!(f.status, Status::Pass, "{check} on {resource}: {f:#?}"),
            Expect::NotAssessedOnMoto(op) => {
                assert_eq!(
                    f.status,
                    Status::NotAssessed,
                    "{check} on {resource}: {f:#?}"
                );
                assert!(f.message.contains(op), "{check} on {resource}: {f:#?}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 1);

    // Whatever moto could not answer is never a PASS: every finding of a check that depends
    // on an operation with a whole-region gap is NOT_ASSESSED.
    let region = &snap.accounts[0].regions[0];
    for def in rdsguard_checks::check_defs() {
        if def
            .depends_on
            .iter()
            .any(|op| region.listing_gap(*op).is_some())
        {
            for f in findings.iter().filter(|f| f.check_id == def.id) {
                assert_eq!(f.status, Status::NotAssessed, "{f:#?}");
            }
        }
    }
}

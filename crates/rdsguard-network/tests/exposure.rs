//! Hand-built topologies for every edge case of the exposure engine.

use rdsguard_model::*;
use rdsguard_network::*;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";

// ---------------------------------------------------------------------------------------------
// Builders

fn perm(proto: &str, from: i32, to: i32, v4: &[&str], v6: &[&str]) -> SecurityGroupPermission {
    SecurityGroupPermission {
        ip_protocol: proto.into(),
        from_port: Some(from),
        to_port: Some(to),
        ipv4_ranges: v4.iter().map(|s| s.to_string()).collect(),
        ipv6_ranges: v6.iter().map(|s| s.to_string()).collect(),
        prefix_list_ids: vec![],
        security_groups: vec![],
    }
}

fn tcp(port: i32, v4: &[&str]) -> SecurityGroupPermission {
    perm("tcp", port, port, v4, &[])
}

fn group_ref(id: &str) -> SecurityGroupReference {
    SecurityGroupReference {
        group_id: id.into(),
        user_id: Some(ACCOUNT.into()),
        vpc_id: Some("vpc-1".into()),
        vpc_peering_connection_id: None,
        peering_status: None,
        description: None,
    }
}

fn sg(id: &str, ingress: Vec<SecurityGroupPermission>) -> SecurityGroup {
    SecurityGroup {
        group_id: id.into(),
        group_name: format!("name-{id}"),
        vpc_id: Some("vpc-1".into()),
        owner_id: Some(ACCOUNT.into()),
        description: None,
        ingress,
        egress: vec![perm("-1", -1, -1, &["0.0.0.0/0"], &[])],
        tags: Default::default(),
    }
}

fn route(dest: &str, gateway: &str) -> Route {
    let mut r = Route {
        state: Some("active".into()),
        ..Default::default()
    };
    if dest.contains(':') {
        r.destination_ipv6_cidr_block = Some(dest.into());
    } else if dest.starts_with("pl-") {
        r.destination_prefix_list_id = Some(dest.into());
    } else {
        r.destination_cidr_block = Some(dest.into());
    }
    if gateway.starts_with("nat-") {
        r.nat_gateway_id = Some(gateway.into());
    } else if gateway.starts_with("pcx-") {
        r.vpc_peering_connection_id = Some(gateway.into());
    } else {
        r.gateway_id = Some(gateway.into());
    }
    r
}

fn acl_entry(
    n: i32,
    proto: &str,
    allow: bool,
    egress: bool,
    cidr: &str,
    ports: Option<(i32, i32)>,
) -> NetworkAclEntry {
    NetworkAclEntry {
        rule_number: n,
        protocol: proto.into(),
        rule_action: if allow { "allow" } else { "deny" }.into(),
        egress,
        cidr_block: (!cidr.contains(':')).then(|| cidr.to_string()),
        ipv6_cidr_block: cidr.contains(':').then(|| cidr.to_string()),
        port_range: ports.map(|(from, to)| PortRange { from, to }),
    }
}

/// EC2's default ACL: allow everything both ways (IPv4 and IPv6), then `*` deny.
fn open_acl_entries() -> Vec<NetworkAclEntry> {
    vec![
        acl_entry(100, "-1", true, false, "0.0.0.0/0", None),
        acl_entry(101, "-1", true, false, "::/0", None),
        acl_entry(32767, "-1", false, false, "0.0.0.0/0", None),
        acl_entry(100, "-1", true, true, "0.0.0.0/0", None),
        acl_entry(101, "-1", true, true, "::/0", None),
        acl_entry(32767, "-1", false, true, "0.0.0.0/0", None),
    ]
}

/// A public topology: VPC vpc-1 (10.0.0.0/16), subnets subnet-a and subnet-b explicitly
/// associated with rtb-pub (0.0.0.0/0 → igw-1, attached), a main table rtb-main with only the
/// local route, the default ACL (open) on both subnets, security group sg-db allowing TCP 5432
/// from 0.0.0.0/0, and a public postgres instance db1 in subnet group `grp`.
fn region() -> RegionSnapshot {
    let mut r = RegionSnapshot::new(REGION);
    let ec2 = &mut r.ec2;
    ec2.vpcs.push(Vpc {
        vpc_id: "vpc-1".into(),
        owner_id: Some(ACCOUNT.into()),
        cidr_blocks: vec!["10.0.0.0/16".into()],
        ..Default::default()
    });
    for (id, cidr) in [("subnet-a", "10.0.1.0/24"), ("subnet-b", "10.0.2.0/24")] {
        ec2.subnets.push(Subnet {
            subnet_id: id.into(),
            vpc_id: "vpc-1".into(),
            cidr_block: Some(cidr.into()),
            ..Default::default()
        });
    }
    ec2.internet_gateways.push(InternetGateway {
        id: "igw-1".into(),
        attached_vpc_ids: vec!["vpc-1".into()],
    });
    ec2.route_tables.push(RouteTable {
        route_table_id: "rtb-main".into(),
        vpc_id: "vpc-1".into(),
        routes: vec![route("10.0.0.0/16", "local")],
        associations: vec![RouteTableAssociation {
            main: true,
            ..Default::default()
        }],
    });
    ec2.route_tables.push(RouteTable {
        route_table_id: "rtb-pub".into(),
        vpc_id: "vpc-1".into(),
        routes: vec![route("10.0.0.0/16", "local"), route("0.0.0.0/0", "igw-1")],
        associations: ["subnet-a", "subnet-b"]
            .iter()
            .map(|s| RouteTableAssociation {
                subnet_id: Some(s.to_string()),
                ..Default::default()
            })
            .collect(),
    });
    ec2.network_acls.push(NetworkAcl {
        network_acl_id: "acl-default".into(),
        vpc_id: "vpc-1".into(),
        is_default: true,
        entries: open_acl_entries(),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
    });
    ec2.security_groups
        .push(sg("sg-db", vec![tcp(5432, &["0.0.0.0/0"])]));
    ec2.security_groups.push(SecurityGroup {
        group_name: "default".into(),
        ..sg("sg-default", vec![])
    });
    r.rds.db_subnet_groups.push(DbSubnetGroup {
        name: "grp".into(),
        vpc_id: Some("vpc-1".into()),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        ..Default::default()
    });
    r.rds.db_instances.push(instance("db1", true, &["sg-db"]));
    r
}

fn instance(id: &str, public: bool, groups: &[&str]) -> DbInstance {
    DbInstance {
        db_instance_identifier: id.into(),
        db_instance_arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:{id}"),
        engine: "postgres".into(),
        port: Some(5432),
        publicly_accessible: public,
        vpc_id: Some("vpc-1".into()),
        db_subnet_group_name: Some("grp".into()),
        vpc_security_groups: groups
            .iter()
            .map(|g| VpcSecurityGroupMembership {
                vpc_security_group_id: g.to_string(),
                status: "active".into(),
            })
            .collect(),
        ..Default::default()
    }
}

fn snapshot_of(regions: Vec<(String, RegionSnapshot)>) -> Snapshot {
    let mut s = Snapshot::new(
        SnapshotSource {
            kind: "test".into(),
            endpoint_url: None,
            regions: vec![REGION.into()],
        },
        "2026-06-01T00:00:00Z",
    );
    for (account, region) in regions {
        s.accounts.push(AccountSnapshot {
            account_id: account,
            partition: "aws".into(),
            iam: None,
            regions: vec![region],
            gaps: vec![],
            ..Default::default()
        });
    }
    s
}

fn analyze_one(r: RegionSnapshot) -> Vec<DbExposure> {
    let s = snapshot_of(vec![(ACCOUNT.into(), r)]);
    assert_reaches_agree(&s);
    analyze(&s).databases
}

/// What the checks decide from (`reaches`) is what the exposure reports say, for every
/// database of every region (run on every fixture of this file through `analyze_one`).
fn assert_reaches_agree(s: &Snapshot) -> usize {
    let mut compared = 0;
    for account in &s.accounts {
        for region in &account.regions {
            let analysis = RegionAnalysis::new(s, account, region).without_egress();
            let reports = analysis.databases();
            let reaches = analysis.reaches();
            assert_eq!(reports.len(), reaches.len());
            // The same in one pass with the subnet groups (and one that does not exist).
            let names: Vec<&str> = region
                .rds
                .db_subnet_groups
                .iter()
                .map(|g| g.name.as_str())
                .chain(["no-such-group"])
                .collect();
            let (reaches_too, groups, positions) =
                analysis.reaches_and_subnet_groups(names.clone());
            assert_eq!(reaches_too, reaches);
            // Each database's groups where the region lists them (the first group of an id).
            let group_lists = region
                .rds
                .db_instances
                .iter()
                .map(|d| {
                    d.vpc_security_groups
                        .iter()
                        .map(|m| m.vpc_security_group_id.as_str())
                        .collect::<Vec<_>>()
                })
                .chain(region.rds.db_clusters.iter().map(|c| {
                    c.vpc_security_groups
                        .iter()
                        .map(|m| m.vpc_security_group_id.as_str())
                        .collect()
                }))
                .chain(region.rds.db_proxies.iter().map(|p| {
                    p.vpc_security_group_ids
                        .iter()
                        .map(String::as_str)
                        .collect()
                }));
            for (db, ids) in group_lists.enumerate() {
                let expected: Vec<Option<u32>> = ids
                    .iter()
                    .map(|id| {
                        let groups = &region.ec2.security_groups;
                        groups
                            .iter()
                            .position(|g| g.group_id == *id)
                            .map(|p| p as u32)
                    })
                    .collect();
                assert_eq!(positions.of(db), Some(&expected[..]), "database {db}");
            }
            assert_eq!(positions.of(reaches.len()), None);
            assert_eq!(groups.len(), names.len());
            for (name, subnets) in groups {
                assert_eq!(subnets, analysis.db_subnet_group_subnets(name), "{name}");
            }
            // Some databases alone (every third, the last, one past the end).
            if reports.is_empty() {
                continue;
            }
            let mut positions: Vec<usize> = (0..reports.len()).step_by(3).collect();
            positions.extend([reports.len().saturating_sub(1), reports.len()]);
            let some = analysis.databases_at(&positions);
            assert_eq!(some.len(), positions.len() - 1);
            for (i, d) in &some {
                assert_eq!(d, &reports[*i]);
            }
            for (d, r) in reports.iter().zip(&reaches) {
                assert_eq!(&DbReach::of(d), r, "{}", d.identifier);
                let groups: Vec<&str> = d
                    .security_groups
                    .iter()
                    .map(|g| g.group_id.as_str())
                    .collect();
                for port in [d.port, Some(2484), None] {
                    assert_eq!(
                        SourceSets::of(&analysis.sources_for(&groups, port)),
                        analysis.source_sets_for(&groups, port),
                        "{} port {port:?}",
                        d.identifier
                    );
                }
                compared += 1;
            }
        }
    }
    compared
}

/// The same on the demo account (every engine family, clusters, proxies, public and
/// blocked paths, peering) and a synthetic one.
#[test]
fn a_group_id_listed_twice_names_its_first_group() {
    let mut r = region();
    let first = r.ec2.security_groups.len();
    r.ec2
        .security_groups
        .push(sg("sg-twice", vec![tcp(5432, &["10.0.0.0/8"])]));
    r.ec2
        .security_groups
        .push(sg("sg-twice", vec![tcp(5432, &["0.0.0.0/0"])]));
    r.rds.db_instances = vec![
        instance("twice", true, &["sg-twice"]),
        instance("gone", true, &["sg-twice", "sg-gone"]),
    ];
    let s = snapshot_of(vec![(ACCOUNT.into(), r)]);
    let (account, region) = (&s.accounts[0], &s.accounts[0].regions[0]);
    let analysis = RegionAnalysis::new(&s, account, region).without_egress();
    let (reaches, _, positions) = analysis.reaches_and_subnet_groups([]);
    let first = Some(first as u32);
    assert_eq!(positions.of(0), Some(&[first][..]));
    assert_eq!(positions.of(1), Some(&[first, None][..]));
    assert_eq!(positions.of(2), None);
    // The first group's rules decide: the internet is not let in.
    assert_eq!(reaches[0].internet_reachable, Some(false));
    let reports = analyze_one(s.accounts[0].regions[0].clone());
    assert_eq!(reports[0].internet_reachable, Some(false));
}

#[test]
fn reaches_agree_with_the_reports_on_the_demo_and_a_synthetic_account() {
    let demo = rdsguard_demo::demo_snapshot();
    let compared = assert_reaches_agree(&demo);
    assert!(compared >= 20, "{compared}");
    let synthetic = rdsguard_demo::synthetic(&rdsguard_demo::SyntheticParams::with_instances(300));
    assert!(assert_reaches_agree(&synthetic) >= 300);

    // The demo with facts taken away or broken, database by database: no VPC, no port, no
    // security group, a group missing from the snapshot, a subnet group missing.
    let mut broken = demo;
    let mut n = 0;
    for account in &mut broken.accounts {
        for region in &mut account.regions {
            for db in &mut region.rds.db_instances {
                match n % 5 {
                    0 => {
                        db.vpc_id = None;
                        db.db_subnet_group_name = None;
                    }
                    1 => db.port = None,
                    2 => db.vpc_security_groups.clear(),
                    3 => db.vpc_security_groups.push(VpcSecurityGroupMembership {
                        vpc_security_group_id: "sg-gone".into(),
                        status: "active".into(),
                    }),
                    _ => db.db_subnet_group_name = Some("no-such-group".into()),
                }
                n += 1;
            }
        }
    }
    assert!(assert_reaches_agree(&broken) >= 20);
}

/// Databases whose own groups have the same rules share one evaluation in `reaches`; each
/// still gets the reach of its own flag, placement and port, and a group whose evaluation
/// names it (a source that does not parse) is evaluated on its own.
#[test]
fn databases_with_alike_groups_reach_by_their_own_flag_placement_and_port() {
    let mut r = region();
    // Two subnets without a route to the internet (the main table), as many as `grp` has.
    for (id, cidr) in [("subnet-c", "10.0.3.0/24"), ("subnet-d", "10.0.4.0/24")] {
        r.ec2.subnets.push(Subnet {
            subnet_id: id.into(),
            vpc_id: "vpc-1".into(),
            cidr_block: Some(cidr.into()),
            ..Default::default()
        });
        r.ec2.network_acls[0].subnet_ids.push(id.into());
    }
    r.rds.db_subnet_groups.push(DbSubnetGroup {
        name: "grp-private".into(),
        vpc_id: Some("vpc-1".into()),
        subnet_ids: vec!["subnet-c".into(), "subnet-d".into()],
        ..Default::default()
    });
    let open = || vec![tcp(5432, &["0.0.0.0/0"])];
    let broken = || vec![tcp(5432, &["0.0.0.0/0", "not-a-cidr"])];
    for (id, rules) in [
        ("sg-a1", open()),
        ("sg-a2", open()),
        ("sg-a3", open()),
        ("sg-a4", open()),
        ("sg-a5", open()),
        ("sg-b1", broken()),
        ("sg-b2", broken()),
        ("sg-c1", vec![tcp(5432, &["10.0.0.0/8"])]),
    ] {
        r.ec2.security_groups.push(sg(id, rules));
    }
    let mut private_subnets = instance("a4", true, &["sg-a4", "sg-default"]);
    private_subnets.db_subnet_group_name = Some("grp-private".into());
    let mut other_port = instance("a5", true, &["sg-a5", "sg-default"]);
    other_port.port = Some(3306);
    r.rds.db_instances = vec![
        instance("a1", true, &["sg-a1", "sg-default"]),
        instance("a2", true, &["sg-a2", "sg-default"]),
        instance("a3", false, &["sg-a3", "sg-default"]),
        private_subnets,
        other_port,
        instance("b1", true, &["sg-b1"]),
        instance("b2", true, &["sg-b2"]),
        instance("c1", true, &["sg-c1", "sg-default"]),
    ];
    let s = snapshot_of(vec![(ACCOUNT.into(), r)]);
    assert_eq!(assert_reaches_agree(&s), 8);
    let (account, region) = (&s.accounts[0], &s.accounts[0].regions[0]);
    let reaches = RegionAnalysis::new(&s, account, region)
        .without_egress()
        .reaches();
    let reachable: Vec<Option<bool>> = reaches.iter().map(|r| r.internet_reachable).collect();
    assert_eq!(
        reachable,
        [
            Some(true),
            Some(true),
            Some(false),
            Some(false),
            Some(false),
            Some(true),
            Some(true),
            Some(false)
        ]
    );
    assert_eq!(reaches[0], reaches[1]);
    assert_eq!(reaches[2].blocked_link, Some(BlockLink::NotPublicFlag));
    assert_eq!(reaches[3].blocked_link, Some(BlockLink::NoIgwRoute));
    assert!(reaches[4].sources.ipv4.is_empty(), "{:?}", reaches[4]);
    assert!(reaches[0].sources.cidr_complete && !reaches[5].sources.cidr_complete);
    assert_eq!(
        reaches[7].blocked_link,
        Some(BlockLink::SecurityGroupsClosed)
    );
}

fn db<'a>(dbs: &'a [DbExposure], id: &str) -> &'a DbExposure {
    dbs.iter()
        .find(|d| d.identifier == id)
        .expect("database in report")
}

fn only(r: RegionSnapshot) -> DbExposure {
    let dbs = analyze_one(r);
    db(&dbs, "db1").clone()
}

fn cidrs4(v: &[Cidr4]) -> Vec<&str> {
    v.iter().map(|c| c.cidr.as_str()).collect()
}

fn sg_mut<'a>(r: &'a mut RegionSnapshot, id: &str) -> &'a mut SecurityGroup {
    r.ec2
        .security_groups
        .iter_mut()
        .find(|g| g.group_id == id)
        .expect("group")
}

fn set_acl(r: &mut RegionSnapshot, entries: Vec<NetworkAclEntry>) {
    r.ec2.network_acls[0].entries = entries;
}

fn internet4() -> ipset::V4Set {
    ipset::internet_v4()
}

fn set_of(v: &[Cidr4]) -> ipset::V4Set {
    v.iter().fold(ipset::V4Set::empty(), |acc, c| {
        acc.union(&ipset::parse_v4(&c.cidr).unwrap())
    })
}

fn gap(op: Op) -> Gap {
    Gap::new(op, Some(REGION), GapKind::AccessDenied, "denied").with_error_code("AccessDenied")
}

// ---------------------------------------------------------------------------------------------
// Internet path

#[test]
fn open_database_is_reachable_with_the_full_path() {
    let d = only(region());
    assert_eq!(d.internet_reachable, Some(true));
    assert!(d.blocked_by.is_none());
    assert_eq!(set_of(&d.internet_sources.ipv4), internet4());
    assert_eq!(d.path.len(), 2, "one path per subnet: {:#?}", d.path);
    let p = &d.path[0];
    assert_eq!(p.family, Family::Ipv4);
    assert_eq!(p.subnet_id, "subnet-a");
    assert_eq!(p.route_table_id.as_deref(), Some("rtb-pub"));
    assert_eq!(p.internet_gateway_ids, vec!["igw-1"]);
    assert_eq!(p.routes[0].destination, "0.0.0.0/0");
    assert_eq!(p.network_acl_id.as_deref(), Some("acl-default"));
    assert_eq!(p.nacl_inbound_rules, vec![100]);
    assert_eq!(p.nacl_outbound_rules, vec![100]);
    assert_eq!(p.security_group_rules.len(), 1);
    assert_eq!(p.security_group_rules[0].group_id, "sg-db");
    assert_eq!(p.security_group_rules[0].source, "0.0.0.0/0");
    assert_eq!(cidrs4(&d.sources.ipv4), vec!["0.0.0.0/0"]);
    assert_eq!(d.sources.ipv4_addresses, 1u64 << 32);
    assert!(d.sources.complete);
    assert_eq!(d.kind, DbKind::DbInstance);
    assert_eq!(d.port, Some(5432));
}

#[test]
fn private_flag_blocks_even_when_everything_else_is_open() {
    let mut r = region();
    r.rds.db_instances[0].publicly_accessible = false;
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(false));
    let b = d.blocked_by.unwrap();
    assert_eq!(b.link, BlockLink::NotPublicFlag);
    assert!(d.path.is_empty() && d.internet_sources.is_empty());
    // The groups still say who may connect from inside.
    assert_eq!(cidrs4(&d.sources.ipv4), vec!["0.0.0.0/0"]);
}

#[test]
fn nacl_deny_before_allow_blocks() {
    let mut r = region();
    set_acl(
        &mut r,
        vec![
            acl_entry(90, "6", false, false, "0.0.0.0/0", Some((5432, 5432))),
            acl_entry(100, "-1", true, false, "0.0.0.0/0", None),
            acl_entry(100, "-1", true, true, "0.0.0.0/0", None),
        ],
    );
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(false));
    let b = d.blocked_by.unwrap();
    assert_eq!(b.link, BlockLink::NaclInboundDenies);
    assert!(
        b.subnets.iter().all(|s| s.rule_numbers == vec![90]),
        "{b:#?}"
    );
}

#[test]
fn nacl_allow_before_deny_lets_exactly_the_allowed_block_in() {
    let mut r = region();
    set_acl(
        &mut r,
        vec![
            acl_entry(90, "6", true, false, "203.0.113.0/24", Some((5432, 5432))),
            acl_entry(100, "-1", false, false, "0.0.0.0/0", None),
            acl_entry(100, "-1", true, true, "0.0.0.0/0", None),
        ],
    );
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    assert_eq!(cidrs4(&d.internet_sources.ipv4), vec!["203.0.113.0/24"]);
    assert_eq!(d.path[0].nacl_inbound_rules, vec![90]);
}

#[test]
fn nacl_deny_rule_carves_a_hole_and_rule_number_order_not_list_order_decides() {
    let mut r = region();
    // Listed out of order: 200 allows all, 50 denies one block; 50 is evaluated first.
    set_acl(
        &mut r,
        vec![
            acl_entry(200, "-1", true, false, "0.0.0.0/0", None),
            acl_entry(50, "6", false, false, "198.51.100.0/24", Some((5000, 6000))),
            acl_entry(100, "-1", true, true, "0.0.0.0/0", None),
        ],
    );
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    let expected = internet4().difference(&ipset::parse_v4("198.51.100.0/24").unwrap());
    assert_eq!(set_of(&d.internet_sources.ipv4), expected);
}

#[test]
fn nacl_deny_on_another_port_does_not_apply() {
    let mut r = region();
    set_acl(
        &mut r,
        vec![
            acl_entry(50, "6", false, false, "0.0.0.0/0", Some((5433, 5440))),
            acl_entry(100, "-1", true, false, "0.0.0.0/0", None),
            acl_entry(100, "-1", true, true, "0.0.0.0/0", None),
        ],
    );
    assert_eq!(only(r).internet_reachable, Some(true));
}

#[test]
fn no_inbound_rules_means_the_star_rule_denies() {
    let mut r = region();
    set_acl(
        &mut r,
        vec![acl_entry(100, "-1", true, true, "0.0.0.0/0", None)],
    );
    let b = only(r).blocked_by.unwrap();
    assert_eq!(b.link, BlockLink::NaclInboundDenies);
    assert_eq!(b.subnets[0].rule_numbers, vec![NACL_DEFAULT_RULE]);
}

#[test]
fn outbound_acl_blocking_replies_blocks() {
    let mut r = region();
    set_acl(
        &mut r,
        vec![
            acl_entry(100, "-1", true, false, "0.0.0.0/0", None),
            // Replies only to well-known ports: no ephemeral port is allowed.
            acl_entry(100, "6", true, true, "0.0.0.0/0", Some((0, 1023))),
        ],
    );
    let b = only(r).blocked_by.unwrap();
    assert_eq!(b.link, BlockLink::NaclOutboundDenies);
    assert_eq!(b.subnets[0].rule_numbers, vec![NACL_DEFAULT_RULE]);
}

#[test]
fn outbound_acl_allowing_some_ephemeral_ports_is_reachable_with_a_note() {
    let mut r = region();
    set_acl(
        &mut r,
        vec![
            acl_entry(100, "-1", true, false, "0.0.0.0/0", None),
            acl_entry(100, "6", true, true, "0.0.0.0/0", Some((32768, 65535))),
        ],
    );
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    assert!(
        d.notes.iter().any(|n| n.contains("some ephemeral ports")),
        "{:?}",
        d.notes
    );
}

#[test]
fn security_group_port_ranges_starting_or_ending_at_the_port_cover_it() {
    for (from, to, covered) in [
        (5432, 5440, true),
        (5000, 5432, true),
        (5433, 6000, false),
        (5000, 5431, false),
    ] {
        let mut r = region();
        sg_mut(&mut r, "sg-db").ingress = vec![perm("tcp", from, to, &["0.0.0.0/0"], &[])];
        let d = only(r);
        if covered {
            assert_eq!(d.internet_reachable, Some(true), "{from}-{to}");
        } else {
            assert_eq!(d.internet_reachable, Some(false), "{from}-{to}");
            assert_eq!(d.blocked_by.unwrap().link, BlockLink::SecurityGroupsClosed);
            assert!(d.sources.rules.is_empty());
        }
    }
}

#[test]
fn udp_and_all_traffic_rules() {
    let mut r = region();
    sg_mut(&mut r, "sg-db").ingress = vec![perm("udp", 5432, 5432, &["0.0.0.0/0"], &[])];
    assert_eq!(only(r).internet_reachable, Some(false));
    let mut r = region();
    sg_mut(&mut r, "sg-db").ingress = vec![perm("-1", -1, -1, &["0.0.0.0/0"], &[])];
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    assert!(d.sources.rules[0].all_protocols && d.sources.rules[0].all_ports);
}

#[test]
fn security_group_allowing_only_private_ranges_is_closed_to_the_internet() {
    let mut r = region();
    sg_mut(&mut r, "sg-db").ingress = vec![tcp(5432, &["10.0.0.0/8", "192.168.0.0/16"])];
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(false));
    assert_eq!(d.blocked_by.unwrap().link, BlockLink::SecurityGroupsClosed);
}

#[test]
fn ipv6_only_path() {
    let mut r = region();
    r.ec2.subnets[0].ipv6_cidr_blocks = vec!["2600:1f18:1:100::/64".into()];
    r.ec2.route_tables[1].routes.push(route("::/0", "igw-1"));
    sg_mut(&mut r, "sg-db").ingress = vec![perm("tcp", 5432, 5432, &[], &["::/0"])];
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    assert!(d.internet_sources.ipv4.is_empty());
    assert_eq!(d.internet_sources.ipv6.len(), 1);
    assert_eq!(d.internet_sources.ipv6[0].cidr, "2000::/3");
    assert_eq!(d.path.len(), 1);
    assert_eq!(d.path[0].family, Family::Ipv6);
    assert_eq!(d.path[0].subnet_id, "subnet-a");
    assert_eq!(d.path[0].nacl_inbound_rules, vec![101]);
    assert_eq!(d.sources.ipv6[0].cidr, "::/0");
    assert_eq!(d.sources.ipv6_addresses, ipset::TWO_POW_128);
}

#[test]
fn ipv6_without_a_v6_route_is_blocked_at_the_route() {
    let mut r = region();
    r.ec2.subnets[0].ipv6_cidr_blocks = vec!["2600:1f18:1:100::/64".into()];
    r.ec2.subnets[1].ipv6_cidr_blocks = vec!["2600:1f18:1:200::/64".into()];
    sg_mut(&mut r, "sg-db").ingress = vec![perm("tcp", 5432, 5432, &[], &["::/0"])];
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(false));
    let b = d.blocked_by.unwrap();
    // IPv4 is stopped by the groups (further along than the missing IPv6 route).
    assert_eq!(b.link, BlockLink::SecurityGroupsClosed);
    assert!(
        b.subnets
            .iter()
            .any(|s| s.family == Family::Ipv6 && s.link == BlockLink::NoIgwRoute)
    );
}

#[test]
fn egress_only_gateway_gives_no_way_in() {
    let mut r = region();
    r.ec2.subnets[0].ipv6_cidr_blocks = vec!["2600:1f18:1:100::/64".into()];
    r.ec2.egress_only_internet_gateways.push(InternetGateway {
        id: "eigw-1".into(),
        attached_vpc_ids: vec!["vpc-1".into()],
    });
    let mut rt = route("::/0", "x");
    rt.gateway_id = None;
    rt.egress_only_internet_gateway_id = Some("eigw-1".into());
    r.ec2.route_tables[1].routes.push(rt);
    sg_mut(&mut r, "sg-db").ingress = vec![perm("tcp", 5432, 5432, &[], &["::/0"])];
    sg_mut(&mut r, "sg-db").egress = vec![perm("-1", -1, -1, &[], &["::/0"])];
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(false));
    assert_eq!(d.egress.internet, Some(true));
    assert_eq!(d.egress.internet_via[0].target, "eigw-1");
}

/// Without egress (what the checks ask for), every exposure is the full one with egress
/// unknown and said not to be analysed, and without the note egress adds.
#[test]
fn without_egress_changes_nothing_but_egress() {
    let mut r = region();
    sg_mut(&mut r, "sg-db").ingress = vec![tcp(5432, &["0.0.0.0/0"])];
    let s = snapshot_of(vec![(ACCOUNT.into(), r)]);
    let (account, region) = (&s.accounts[0], &s.accounts[0].regions[0]);
    let full = RegionAnalysis::new(&s, account, region).databases();
    let lean = RegionAnalysis::new(&s, account, region)
        .without_egress()
        .databases();
    assert_eq!(full.len(), lean.len());
    assert!(full.iter().any(|d| d.egress.internet.is_some()));
    for (mut f, l) in full.into_iter().zip(lean) {
        assert_eq!(l.egress.internet, None);
        assert_eq!(
            l.egress.unknown_reason.as_deref(),
            Some("egress was not analysed")
        );
        f.egress = l.egress.clone();
        f.notes.retain(|n| n != "egress ignores network ACLs");
        assert_eq!(f, l);
    }
}

#[test]
fn known_prefix_list_is_expanded() {
    let mut r = region();
    r.ec2.managed_prefix_lists.push(ManagedPrefixList {
        prefix_list_id: "pl-1".into(),
        prefix_list_name: Some("office".into()),
        address_family: Some("IPv4".into()),
        owner_id: Some(ACCOUNT.into()),
        entries: Some(vec![
            PrefixListEntry {
                cidr: "198.51.100.0/25".into(),
                description: None,
            },
            PrefixListEntry {
                cidr: "198.51.100.128/25".into(),
                description: None,
            },
        ]),
    });
    let mut p = tcp(5432, &[]);
    p.prefix_list_ids = vec!["pl-1".into()];
    sg_mut(&mut r, "sg-db").ingress = vec![p];
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    assert_eq!(cidrs4(&d.internet_sources.ipv4), vec!["198.51.100.0/24"]);
    assert_eq!(d.sources.prefix_lists[0].cidrs.len(), 2);
    assert!(d.sources.prefix_lists[0].entries_known);
    assert_eq!(d.path[0].security_group_rules[0].source, "pl-1");
    assert!(d.sources.complete);
}

#[test]
fn unknown_prefix_list_entries_make_reachability_unknown_not_false() {
    let mut r = region();
    r.ec2.managed_prefix_lists.push(ManagedPrefixList {
        prefix_list_id: "pl-2".into(),
        entries: None,
        ..Default::default()
    });
    r.gaps
        .push(gap(ops::EC2_GET_MANAGED_PREFIX_LIST_ENTRIES).with_resource("pl-2"));
    let mut p = tcp(5432, &[]);
    p.prefix_list_ids = vec!["pl-2".into()];
    sg_mut(&mut r, "sg-db").ingress = vec![p];
    let d = only(r);
    assert_eq!(d.internet_reachable, None);
    let why = d.unknown_reason.unwrap();
    assert!(
        why.contains("pl-2") && why.contains("GetManagedPrefixListEntries"),
        "{why}"
    );
    assert!(!d.sources.complete);
    assert!(!d.sources.prefix_lists[0].entries_known);
}

#[test]
fn unknown_prefix_list_does_not_hide_a_known_open_rule() {
    let mut r = region();
    let mut p = tcp(5432, &["0.0.0.0/0"]);
    p.prefix_list_ids = vec!["pl-missing".into()];
    sg_mut(&mut r, "sg-db").ingress = vec![p];
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    assert!(!d.sources.complete);
}

#[test]
fn overlapping_and_adjacent_cidrs_merge_to_minimal_form() {
    let mut r = region();
    sg_mut(&mut r, "sg-db").ingress = vec![
        tcp(5432, &["10.0.0.0/16", "10.0.128.0/17"]),
        perm("tcp", 5400, 5500, &["10.1.0.0/16"], &[]),
    ];
    let d = only(r);
    assert_eq!(cidrs4(&d.sources.ipv4), vec!["10.0.0.0/15"]);
    assert_eq!(d.sources.ipv4_addresses, 131_072);
    assert_eq!(d.sources.rules.len(), 2);
}

#[test]
fn main_route_table_applies_without_explicit_association() {
    let mut r = region();
    r.ec2.route_tables[1]
        .associations
        .retain(|a| a.subnet_id.as_deref() != Some("subnet-b"));
    r.rds.db_subnet_groups[0].subnet_ids = vec!["subnet-b".into()];
    let d = only(r.clone());
    assert_eq!(d.internet_reachable, Some(false));
    assert_eq!(d.blocked_by.unwrap().link, BlockLink::NoIgwRoute);
    assert!(d.subnets[0].main_route_table);
    assert_eq!(d.subnets[0].route_table_id.as_deref(), Some("rtb-main"));
    assert_eq!(d.subnets[0].public, Some(false));
    // Once the main table routes to the gateway, the subnet is public.
    r.ec2.route_tables[0]
        .routes
        .push(route("0.0.0.0/0", "igw-1"));
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    assert_eq!(d.path[0].route_table_id.as_deref(), Some("rtb-main"));
}

#[test]
fn blackhole_route_is_no_route() {
    let mut r = region();
    r.ec2.route_tables[1].routes[1].state = Some("blackhole".into());
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(false));
    let b = d.blocked_by.unwrap();
    assert_eq!(b.link, BlockLink::NoIgwRoute);
    assert!(b.detail.contains("blackhole"), "{}", b.detail);
    assert_eq!(d.subnets[0].public, Some(false));
}

#[test]
fn detached_internet_gateway_is_no_route() {
    let mut r = region();
    r.ec2.internet_gateways[0].attached_vpc_ids.clear();
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(false));
    let b = d.blocked_by.unwrap();
    assert_eq!(b.link, BlockLink::NoIgwRoute);
    assert!(b.detail.contains("not attached"), "{}", b.detail);
}

#[test]
fn more_specific_route_elsewhere_takes_its_block_off_the_internet_path() {
    let mut r = region();
    let mut vpn = route("203.0.113.0/24", "vgw-1");
    vpn.gateway_id = Some("vgw-1".into());
    r.ec2.route_tables[1].routes.push(vpn);
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    let expected = internet4().difference(&ipset::parse_v4("203.0.113.0/24").unwrap());
    assert_eq!(set_of(&d.internet_sources.ipv4), expected);
}

#[test]
fn multi_subnet_blocking_reports_the_furthest_link() {
    let mut r = region();
    // subnet-b falls back to the main table (no internet route); subnet-a's ACL denies.
    r.ec2.route_tables[1]
        .associations
        .retain(|a| a.subnet_id.as_deref() != Some("subnet-b"));
    r.ec2.network_acls[0].subnet_ids = vec!["subnet-b".into()];
    r.ec2.network_acls.push(NetworkAcl {
        network_acl_id: "acl-strict".into(),
        vpc_id: "vpc-1".into(),
        is_default: false,
        entries: vec![acl_entry(100, "-1", true, true, "0.0.0.0/0", None)],
        subnet_ids: vec!["subnet-a".into()],
    });
    let d = only(r);
    let b = d.blocked_by.unwrap();
    assert_eq!(b.link, BlockLink::NaclInboundDenies);
    assert!(b.detail.starts_with("subnet-a"), "{}", b.detail);
    let links: Vec<_> = b
        .subnets
        .iter()
        .map(|s| (s.subnet_id.as_str(), s.link))
        .collect();
    assert!(links.contains(&("subnet-b", BlockLink::NoIgwRoute)));
}

// ---------------------------------------------------------------------------------------------
// Security group references

#[test]
fn referenced_group_resolves_to_interface_addresses() {
    let mut r = region();
    r.ec2.security_groups.push(sg("sg-app", vec![]));
    let mut p = tcp(5432, &[]);
    p.security_groups = vec![group_ref("sg-app")];
    sg_mut(&mut r, "sg-db").ingress = vec![p];
    r.ec2.network_interfaces.push(NetworkInterface {
        network_interface_id: "eni-1".into(),
        subnet_id: Some("subnet-a".into()),
        vpc_id: Some("vpc-1".into()),
        private_ip_addresses: vec!["10.0.1.10".into(), "10.0.1.11".into()],
        ipv6_addresses: vec!["2600:1f18:1:100::10".into()],
        group_ids: vec!["sg-app".into()],
        attached_instance_id: Some("i-123".into()),
        ..Default::default()
    });
    let d = only(r);
    assert_eq!(cidrs4(&d.sources.ipv4), vec!["10.0.1.10/31"]);
    assert_eq!(d.sources.ipv6[0].cidr, "2600:1f18:1:100::10/128");
    let g = &d.sources.security_groups[0];
    assert_eq!(g.group_id, "sg-app");
    assert_eq!(g.interfaces.len(), 1);
    assert_eq!(g.interfaces[0].instance_id.as_deref(), Some("i-123"));
    assert!(!g.unknown_members && !g.stale);
    // A group reference never lets the internet in.
    assert_eq!(d.internet_reachable, Some(false));
    assert_eq!(d.blocked_by.unwrap().link, BlockLink::SecurityGroupsClosed);
}

#[test]
fn referenced_group_without_interfaces_is_a_source_not_nobody() {
    let mut r = region();
    r.ec2.security_groups.push(sg("sg-app", vec![]));
    let mut p = tcp(5432, &[]);
    p.security_groups = vec![group_ref("sg-app")];
    sg_mut(&mut r, "sg-db").ingress = vec![p];
    let d = only(r);
    assert_eq!(d.sources.security_groups.len(), 1);
    let g = &d.sources.security_groups[0];
    assert!(g.interfaces.is_empty());
    assert!(!g.unknown_members);
    assert!(d.sources.complete);
}

#[test]
fn other_account_group_not_in_snapshot_has_unknown_members() {
    let mut r = region();
    let mut p = tcp(5432, &[]);
    p.security_groups = vec![SecurityGroupReference {
        user_id: Some("999988887777".into()),
        vpc_id: Some("vpc-9".into()),
        vpc_peering_connection_id: Some("pcx-9".into()),
        ..group_ref("sg-remote")
    }];
    sg_mut(&mut r, "sg-db").ingress = vec![p];
    let d = only(r);
    let g = &d.sources.security_groups[0];
    assert!(g.unknown_members && !g.stale);
    assert!(g.reason.as_deref().unwrap().contains("999988887777"));
    assert!(!d.sources.complete);
    // Unknown members cannot be internet addresses: the verdict stays known.
    assert_eq!(d.internet_reachable, Some(false));
}

#[test]
fn other_account_group_in_snapshot_is_resolved() {
    let mut r = region();
    let mut p = tcp(5432, &[]);
    p.security_groups = vec![SecurityGroupReference {
        user_id: Some("999988887777".into()),
        ..group_ref("sg-remote")
    }];
    sg_mut(&mut r, "sg-db").ingress = vec![p];
    let mut other = RegionSnapshot::new(REGION);
    other.ec2.security_groups.push(SecurityGroup {
        owner_id: Some("999988887777".into()),
        ..sg("sg-remote", vec![])
    });
    other.ec2.network_interfaces.push(NetworkInterface {
        network_interface_id: "eni-r".into(),
        private_ip_addresses: vec!["10.0.3.3".into()],
        group_ids: vec!["sg-remote".into()],
        ..Default::default()
    });
    let s = snapshot_of(vec![(ACCOUNT.into(), r), ("999988887777".into(), other)]);
    let report = analyze(&s);
    let d = db(&report.databases, "db1");
    let g = &d.sources.security_groups[0];
    assert!(!g.unknown_members);
    assert_eq!(g.interfaces[0].network_interface_id, "eni-r");
    assert_eq!(cidrs4(&d.sources.ipv4), vec!["10.0.3.3/32"]);
}

#[test]
fn deleted_and_missing_same_account_references_are_stale() {
    let mut r = region();
    let mut p = tcp(5432, &[]);
    p.security_groups = vec![
        SecurityGroupReference {
            peering_status: Some("deleted".into()),
            ..group_ref("sg-gone")
        },
        group_ref("sg-never"),
    ];
    sg_mut(&mut r, "sg-db").ingress = vec![p];
    let d = only(r);
    assert!(
        d.sources
            .security_groups
            .iter()
            .all(|g| g.stale && !g.unknown_members)
    );
}

#[test]
fn missing_interfaces_listing_makes_members_unknown() {
    let mut r = region();
    r.ec2.security_groups.push(sg("sg-app", vec![]));
    let mut p = tcp(5432, &[]);
    p.security_groups = vec![group_ref("sg-app")];
    sg_mut(&mut r, "sg-db").ingress = vec![p];
    r.gaps.push(gap(ops::EC2_DESCRIBE_NETWORK_INTERFACES));
    let d = only(r);
    assert!(d.sources.security_groups[0].unknown_members);
    assert!(!d.sources.complete);
}

// ---------------------------------------------------------------------------------------------
// Gaps and unknowns

#[test]
fn gaps_make_reachability_unknown_never_false() {
    for op in [
        ops::EC2_DESCRIBE_NETWORK_ACLS,
        ops::EC2_DESCRIBE_ROUTE_TABLES,
        ops::EC2_DESCRIBE_SUBNETS,
        ops::EC2_DESCRIBE_SECURITY_GROUPS,
        ops::RDS_DESCRIBE_DB_SUBNET_GROUPS,
    ] {
        let mut r = region();
        r.gaps.push(gap(op));
        match op.operation {
            "DescribeNetworkAcls" => r.ec2.network_acls.clear(),
            "DescribeRouteTables" => r.ec2.route_tables.clear(),
            "DescribeSubnets" => r.ec2.subnets.clear(),
            "DescribeSecurityGroups" => r.ec2.security_groups.clear(),
            _ => r.rds.db_subnet_groups.clear(),
        }
        let d = only(r);
        assert_eq!(d.internet_reachable, None, "{op}");
        let why = d.unknown_reason.unwrap_or_default();
        assert!(why.contains(op.operation), "{op}: {why}");
    }
}

#[test]
fn internet_gateway_gap_is_unknown() {
    let mut r = region();
    r.ec2.internet_gateways.clear();
    r.gaps.push(gap(ops::EC2_DESCRIBE_INTERNET_GATEWAYS));
    let d = only(r);
    assert_eq!(d.internet_reachable, None);
    assert_eq!(d.subnets[0].public, None);
}

#[test]
fn a_known_closed_link_decides_despite_gaps_elsewhere() {
    let mut r = region();
    r.ec2.network_acls.clear();
    r.gaps.push(gap(ops::EC2_DESCRIBE_NETWORK_ACLS));
    sg_mut(&mut r, "sg-db").ingress = vec![tcp(5432, &["10.0.0.0/8"])];
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(false));
    assert_eq!(d.blocked_by.unwrap().link, BlockLink::SecurityGroupsClosed);
    // And a private database is not reachable whatever is missing.
    let mut r = region();
    r.ec2 = Ec2Data::default();
    r.gaps.push(gap(ops::EC2_DESCRIBE_SECURITY_GROUPS));
    r.rds.db_instances[0].publicly_accessible = false;
    assert_eq!(only(r).internet_reachable, Some(false));
}

#[test]
fn subnet_missing_without_gap_is_unknown() {
    let mut r = region();
    r.rds.db_subnet_groups[0].subnet_ids = vec!["subnet-zzz".into()];
    let d = only(r);
    assert_eq!(d.internet_reachable, None);
    assert!(d.unknown_reason.unwrap().contains("subnet-zzz"));
}

#[test]
fn attached_group_missing_is_unknown() {
    let mut r = region();
    r.rds.db_instances[0].vpc_security_groups[0].vpc_security_group_id = "sg-missing".into();
    let d = only(r);
    assert_eq!(d.internet_reachable, None);
    assert!(!d.security_groups[0].found);
}

#[test]
fn unknown_port_is_unknown() {
    let mut r = region();
    r.rds.db_instances[0].port = None;
    let d = only(r);
    assert_eq!(d.internet_reachable, None);
    assert!(d.unknown_reason.unwrap().contains("port"));
    // An all-ports rule still decides.
    let mut r = region();
    r.rds.db_instances[0].port = None;
    sg_mut(&mut r, "sg-db").ingress = vec![perm("-1", -1, -1, &["0.0.0.0/0"], &[])];
    set_acl(&mut r, open_acl_entries());
    let d = only(r);
    // The ACL inbound rule is all-protocol, but the port is unknown so ACL evaluation is too.
    assert_eq!(d.internet_reachable, None);
}

// ---------------------------------------------------------------------------------------------
// Clusters, proxies, peering, egress

fn aurora(r: &mut RegionSnapshot, members: &[(&str, bool)]) {
    r.rds.db_instances.clear();
    for (id, public) in members {
        let mut i = instance(id, *public, &["sg-db"]);
        i.engine = "aurora-postgresql".into();
        i.db_cluster_identifier = Some("cl1".into());
        r.rds.db_instances.push(i);
    }
    r.rds.db_clusters.push(DbCluster {
        db_cluster_identifier: "cl1".into(),
        db_cluster_arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster:cl1"),
        engine: "aurora-postgresql".into(),
        port: Some(5432),
        members: members
            .iter()
            .map(|(id, _)| ClusterMember {
                db_instance_identifier: id.to_string(),
                is_cluster_writer: false,
                db_cluster_parameter_group_status: None,
            })
            .collect(),
        vpc_security_groups: vec![VpcSecurityGroupMembership {
            vpc_security_group_id: "sg-db".into(),
            status: "active".into(),
        }],
        db_subnet_group: Some("grp".into()),
        ..Default::default()
    });
}

#[test]
fn aurora_cluster_is_reachable_through_a_public_member() {
    let mut r = region();
    aurora(&mut r, &[("w", false), ("rd", true)]);
    let dbs = analyze_one(r);
    let c = db(&dbs, "cl1");
    assert_eq!(c.kind, DbKind::DbCluster);
    assert_eq!(c.internet_reachable, Some(true));
    assert_eq!(c.public_members, vec!["rd"]);
    assert_eq!(db(&dbs, "w").internet_reachable, Some(false));
    assert_eq!(db(&dbs, "rd").internet_reachable, Some(true));
}

#[test]
fn a_member_that_does_not_name_its_cluster_is_still_found() {
    let mut r = region();
    aurora(&mut r, &[("w", false), ("rd", true)]);
    // The public member's own record does not name the cluster (an inconsistent listing).
    r.rds.db_instances[1].db_cluster_identifier = None;
    let dbs = analyze_one(r);
    let c = db(&dbs, "cl1");
    assert_eq!(c.internet_reachable, Some(true));
    assert_eq!(c.public_members, vec!["rd"]);
    assert_eq!(c.unknown_reason, None);
}

#[test]
fn aurora_cluster_with_missing_members_is_unknown_unless_blocked() {
    let mut r = region();
    aurora(&mut r, &[("w", false)]);
    r.rds.db_clusters[0].members.push(ClusterMember {
        db_instance_identifier: "ghost".into(),
        is_cluster_writer: true,
        db_cluster_parameter_group_status: None,
    });
    let dbs = analyze_one(r.clone());
    let c = db(&dbs, "cl1");
    assert_eq!(c.internet_reachable, None);
    assert_eq!(c.publicly_accessible, None);
    assert!(c.unknown_reason.as_deref().unwrap().contains("ghost"));
    sg_mut(&mut r, "sg-db").ingress.clear();
    let dbs = analyze_one(r);
    assert_eq!(db(&dbs, "cl1").internet_reachable, Some(false));
}

#[test]
fn multi_az_cluster_flag_is_the_clusters() {
    let mut r = region();
    r.rds.db_clusters.push(DbCluster {
        db_cluster_identifier: "maz".into(),
        db_cluster_arn: "arn:maz".into(),
        engine: "postgres".into(),
        port: Some(5432),
        publicly_accessible: Some(true),
        vpc_security_groups: vec![VpcSecurityGroupMembership {
            vpc_security_group_id: "sg-db".into(),
            status: "active".into(),
        }],
        db_subnet_group: Some("grp".into()),
        ..Default::default()
    });
    let dbs = analyze_one(r);
    assert_eq!(db(&dbs, "maz").internet_reachable, Some(true));
}

#[test]
fn proxies_are_never_public() {
    let mut r = region();
    r.rds.db_proxies.push(DbProxy {
        name: "px".into(),
        arn: "arn:px".into(),
        engine_family: "POSTGRESQL".into(),
        vpc_id: Some("vpc-1".into()),
        vpc_security_group_ids: vec!["sg-db".into()],
        vpc_subnet_ids: vec!["subnet-a".into()],
        ..Default::default()
    });
    let dbs = analyze_one(r);
    let p = db(&dbs, "px");
    assert_eq!(p.kind, DbKind::DbProxy);
    assert_eq!(p.port, Some(5432));
    assert_eq!(p.internet_reachable, Some(false));
    assert_eq!(
        p.blocked_by.as_ref().unwrap().link,
        BlockLink::NotPublicFlag
    );
    assert_eq!(cidrs4(&p.sources.ipv4), vec!["0.0.0.0/0"]);
}

fn peered(r: &mut RegionSnapshot, status: &str) {
    r.ec2.vpc_peering_connections.push(VpcPeeringConnection {
        vpc_peering_connection_id: "pcx-1".into(),
        status: Some(status.into()),
        requester: VpcPeeringEnd {
            vpc_id: Some("vpc-1".into()),
            owner_id: Some(ACCOUNT.into()),
            region: Some(REGION.into()),
            cidr_blocks: vec!["10.0.0.0/16".into()],
            ipv6_cidr_blocks: vec![],
        },
        accepter: VpcPeeringEnd {
            vpc_id: Some("vpc-2".into()),
            owner_id: Some("444455556666".into()),
            region: Some(REGION.into()),
            cidr_blocks: vec!["172.31.0.0/16".into()],
            ipv6_cidr_blocks: vec![],
        },
    });
}

#[test]
fn reachable_from_a_peered_vpc_with_a_route() {
    let mut r = region();
    peered(&mut r, "active");
    r.ec2.route_tables[1]
        .routes
        .push(route("172.31.0.0/16", "pcx-1"));
    sg_mut(&mut r, "sg-db").ingress = vec![tcp(5432, &["172.31.5.0/24", "10.0.0.0/16"])];
    let d = only(r);
    assert_eq!(d.peered_vpcs.len(), 1);
    let p = &d.peered_vpcs[0];
    assert_eq!(p.vpc_id.as_deref(), Some("vpc-2"));
    assert_eq!(p.peering_connection_id, "pcx-1");
    assert_eq!(cidrs4(&p.ipv4), vec!["172.31.5.0/24"]);
    assert!(d.peering_unknown.is_none());
}

/// Databases alike in everything else share a reach only when their VPCs have the same
/// peering connections: a database that reports a VPC without peerings is not judged as its
/// neighbour in a peered VPC (the same subnets), and without any peering in the region the
/// VPC no longer tells them apart.
#[test]
fn alike_databases_share_a_reach_only_with_the_same_peerings() {
    let databases = |r: &mut RegionSnapshot| {
        for id in ["sg-p1", "sg-p2", "sg-p3"] {
            r.ec2
                .security_groups
                .push(sg(id, vec![tcp(5432, &["172.31.5.0/24"])]));
        }
        let mut elsewhere = instance("p2", false, &["sg-p2"]);
        elsewhere.vpc_id = Some("vpc-3".into());
        r.rds.db_instances = vec![
            instance("p1", false, &["sg-p1"]),
            elsewhere,
            instance("p3", false, &["sg-p3"]),
        ];
    };
    let reaches = |r: RegionSnapshot| {
        let s = snapshot_of(vec![(ACCOUNT.into(), r)]);
        assert_eq!(assert_reaches_agree(&s), 3);
        let (account, region) = (&s.accounts[0], &s.accounts[0].regions[0]);
        RegionAnalysis::new(&s, account, region)
            .without_egress()
            .reaches()
    };
    let mut r = region();
    peered(&mut r, "active");
    r.ec2.route_tables[1]
        .routes
        .push(route("172.31.0.0/16", "pcx-1"));
    databases(&mut r);
    let peered_reaches = reaches(r);
    let peered: Vec<bool> = peered_reaches.iter().map(|d| d.peered).collect();
    assert_eq!(peered, [true, false, true]);
    let mut r = region();
    databases(&mut r);
    let alone = reaches(r);
    assert!(alone.iter().all(|d| !d.peered && d.in_vpc));
    assert_eq!(alone[0], alone[1]);
}

#[test]
fn peering_without_a_route_or_not_active_gives_nothing() {
    let mut r = region();
    peered(&mut r, "active");
    sg_mut(&mut r, "sg-db").ingress = vec![tcp(5432, &["172.31.0.0/16"])];
    assert!(only(r).peered_vpcs.is_empty());
    let mut r = region();
    peered(&mut r, "pending-acceptance");
    r.ec2.route_tables[1]
        .routes
        .push(route("172.31.0.0/16", "pcx-1"));
    sg_mut(&mut r, "sg-db").ingress = vec![tcp(5432, &["172.31.0.0/16"])];
    assert!(only(r).peered_vpcs.is_empty());
}

#[test]
fn peering_gap_is_reported() {
    let mut r = region();
    r.gaps.push(gap(ops::EC2_DESCRIBE_VPC_PEERING_CONNECTIONS));
    let d = only(r);
    assert!(
        d.peering_unknown
            .unwrap()
            .contains("DescribeVpcPeeringConnections")
    );
}

#[test]
fn egress_through_nat_for_a_private_database() {
    let mut r = region();
    r.rds.db_instances[0].publicly_accessible = false;
    r.ec2.nat_gateways.push(NatGateway {
        nat_gateway_id: "nat-1".into(),
        vpc_id: Some("vpc-1".into()),
        subnet_id: Some("subnet-x".into()),
        connectivity_type: Some("public".into()),
        state: Some("available".into()),
    });
    r.ec2.route_tables[1].routes[1] = route("0.0.0.0/0", "nat-1");
    let d = only(r.clone());
    assert_eq!(d.egress.internet, Some(true));
    assert_eq!(d.egress.internet_via[0].target, "nat-1");
    assert!(d.egress.all_traffic);
    // Without the NAT route, a private database cannot send to the internet.
    r.ec2.route_tables[1].routes.truncate(1);
    assert_eq!(only(r).egress.internet, Some(false));
}

#[test]
fn egress_closed_groups() {
    let mut r = region();
    sg_mut(&mut r, "sg-db").egress = vec![tcp(443, &["10.0.0.0/8"])];
    let d = only(r);
    assert_eq!(d.egress.internet, Some(false));
    assert_eq!(cidrs4(&d.egress.ipv4), vec!["10.0.0.0/8"]);
}

// ---------------------------------------------------------------------------------------------
// Output

#[test]
fn json_contract_field_names() {
    let report = analyze(&snapshot_of(vec![(ACCOUNT.into(), region())]));
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["schema_version"], EXPOSURE_SCHEMA_VERSION);
    let d = &v["databases"][0];
    for key in [
        "identifier",
        "arn",
        "kind",
        "account_id",
        "region",
        "engine",
        "port",
        "internet_reachable",
        "path",
        "blocked_by",
        "sources",
        "egress",
        "peered_vpcs",
        "notes",
    ] {
        assert!(d.get(key).is_some(), "missing {key}");
    }
    assert_eq!(d["kind"], "db-instance");
    assert_eq!(d["internet_reachable"], true);
    assert_eq!(d["sources"]["ipv4"][0]["cidr"], "0.0.0.0/0");
    assert_eq!(d["sources"]["ipv4"][0]["addresses"], 4294967296u64);
    assert_eq!(d["path"][0]["family"], "ipv4");
    let back: ExposureReport = serde_json::from_value(v).unwrap();
    assert_eq!(back, report);

    let mut r = region();
    r.rds.db_instances[0].publicly_accessible = false;
    let v = serde_json::to_value(analyze(&snapshot_of(vec![(ACCOUNT.into(), r)]))).unwrap();
    assert_eq!(v["databases"][0]["blocked_by"]["link"], "not_public_flag");
}

#[test]
fn table_names_the_verdict_path_and_sources() {
    let mut r = region();
    r.rds.db_instances.push(instance("db2", false, &["sg-db"]));
    let text = render_table(&analyze(&snapshot_of(vec![(ACCOUNT.into(), r)])));
    assert!(text.starts_with("KIND"), "{text}");
    assert!(text.contains("REACHABLE"));
    assert!(text.contains("not_public_flag"));
    assert!(text.contains("rtb-pub [0.0.0.0/0 -> igw-1]"), "{text}");
    assert!(text.contains("all public IPv4"), "{text}");
    assert!(!text.contains('\x1b'), "no colour codes");
}

#[test]
fn analyze_db_filters_and_reports_unknown_names() {
    let s = snapshot_of(vec![(ACCOUNT.into(), region())]);
    assert_eq!(analyze_db(&s, "db1").unwrap().databases.len(), 1);
    assert_eq!(
        analyze_db(&s, "nope"),
        Err(ExposureError::DatabaseNotFound("nope".into()))
    );
}

#[test]
fn route_to_a_prefix_list_with_unknown_entries() {
    // An S3 gateway endpoint route with unknown entries could take any address off the
    // internet route: reachability is unknown, but the subnet is still public.
    let mut r = region();
    r.ec2.managed_prefix_lists.push(ManagedPrefixList {
        prefix_list_id: "pl-s3".into(),
        entries: None,
        ..Default::default()
    });
    r.ec2.route_tables[1].routes.push(route("pl-s3", "vpce-1"));
    let d = only(r.clone());
    assert_eq!(d.internet_reachable, None);
    assert!(d.unknown_reason.unwrap().contains("pl-s3"));
    assert_eq!(d.subnets[0].public, Some(true));
    // With known entries, only those addresses leave the internet path.
    r.ec2.managed_prefix_lists[0].entries = Some(vec![PrefixListEntry {
        cidr: "52.216.0.0/15".into(),
        description: None,
    }]);
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(true));
    let expected = internet4().difference(&ipset::parse_v4("52.216.0.0/15").unwrap());
    assert_eq!(set_of(&d.internet_sources.ipv4), expected);
}

#[test]
fn unknown_prefix_list_route_to_a_private_target_does_not_hide_a_closed_path() {
    let mut r = region();
    r.ec2.route_tables[1].routes.truncate(1); // no internet route at all
    r.ec2.route_tables[1].routes.push(route("pl-s3", "vpce-1"));
    let d = only(r);
    assert_eq!(d.internet_reachable, Some(false));
    assert_eq!(d.blocked_by.unwrap().link, BlockLink::NoIgwRoute);
    assert_eq!(d.subnets[0].public, Some(false));
}

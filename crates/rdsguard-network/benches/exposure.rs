//! The full exposure map of a large synthetic region: 5,000 DB instances, 100,000 security
//! group rules (2,500 groups × 40 permissions with CIDRs, prefix lists and group references),
//! 10,000 network interfaces, 200 subnets with their route tables and network ACLs.
//!
//! `CARGO_TARGET_DIR=/tmp/tgt-network cargo bench -p rdsguard-network -- --quick`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rdsguard_model::*;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";
const VPCS: usize = 10;
const SUBNETS_PER_VPC: usize = 20;
const GROUPS: usize = 2_500;
const PERMISSIONS_PER_GROUP: usize = 40;
const INTERFACES: usize = 10_000;
const DATABASES: usize = 5_000;
const PREFIX_LISTS: usize = 10;

/// A small deterministic generator (no dependency, same topology every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn cidr24(rng: &mut Lcg) -> String {
    format!(
        "{}.{}.{}.0/24",
        1 + rng.below(222),
        rng.below(256),
        rng.below(256)
    )
}

fn region() -> RegionSnapshot {
    let mut rng = Lcg(42);
    let mut r = RegionSnapshot::new(REGION);
    let ec2 = &mut r.ec2;
    for v in 0..VPCS {
        let vpc = format!("vpc-{v}");
        ec2.vpcs.push(Vpc {
            vpc_id: vpc.clone(),
            cidr_blocks: vec![format!("10.{v}.0.0/16")],
            ..Default::default()
        });
        ec2.internet_gateways.push(InternetGateway {
            id: format!("igw-{v}"),
            attached_vpc_ids: vec![vpc.clone()],
        });
        ec2.nat_gateways.push(NatGateway {
            nat_gateway_id: format!("nat-{v}"),
            vpc_id: Some(vpc.clone()),
            state: Some("available".into()),
            connectivity_type: Some("public".into()),
            ..Default::default()
        });
        ec2.route_tables.push(RouteTable {
            route_table_id: format!("rtb-main-{v}"),
            vpc_id: vpc.clone(),
            routes: vec![Route {
                destination_cidr_block: Some(format!("10.{v}.0.0/16")),
                gateway_id: Some("local".into()),
                ..Default::default()
            }],
            associations: vec![RouteTableAssociation {
                main: true,
                ..Default::default()
            }],
        });
        for s in 0..SUBNETS_PER_VPC {
            let subnet = format!("subnet-{v}-{s}");
            ec2.subnets.push(Subnet {
                subnet_id: subnet.clone(),
                vpc_id: vpc.clone(),
                cidr_block: Some(format!("10.{v}.{s}.0/24")),
                ipv6_cidr_blocks: if s % 4 == 0 {
                    vec![format!("2600:1f18:{v:x}:{s:x}00::/64")]
                } else {
                    vec![]
                },
                ..Default::default()
            });
            let public = s % 3 == 0;
            let mut routes = vec![
                Route {
                    destination_cidr_block: Some(format!("10.{v}.0.0/16")),
                    gateway_id: Some("local".into()),
                    ..Default::default()
                },
                Route {
                    destination_cidr_block: Some("0.0.0.0/0".into()),
                    gateway_id: public.then(|| format!("igw-{v}")),
                    nat_gateway_id: (!public).then(|| format!("nat-{v}")),
                    state: Some("active".into()),
                    ..Default::default()
                },
                Route {
                    destination_ipv6_cidr_block: Some("::/0".into()),
                    gateway_id: Some(format!("igw-{v}")),
                    ..Default::default()
                },
            ];
            for _ in 0..5 {
                routes.push(Route {
                    destination_cidr_block: Some(cidr24(&mut rng)),
                    gateway_id: Some("vgw-1".into()),
                    ..Default::default()
                });
            }
            ec2.route_tables.push(RouteTable {
                route_table_id: format!("rtb-{v}-{s}"),
                vpc_id: vpc.clone(),
                routes,
                associations: (s % 5 != 4)
                    .then(|| RouteTableAssociation {
                        subnet_id: Some(subnet.clone()),
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
            });
            let mut entries = Vec::new();
            for (i, egress) in [(0, false), (1, true)] {
                for k in 0..8 {
                    entries.push(NetworkAclEntry {
                        rule_number: 10 + k * 10 + i,
                        protocol: "6".into(),
                        rule_action: if k % 3 == 0 { "deny" } else { "allow" }.into(),
                        egress,
                        cidr_block: Some(cidr24(&mut rng)),
                        port_range: Some(PortRange {
                            from: 1024 * k,
                            to: 1024 * k + 5000,
                        }),
                        ..Default::default()
                    });
                }
                entries.push(NetworkAclEntry {
                    rule_number: 100,
                    protocol: "-1".into(),
                    rule_action: "allow".into(),
                    egress,
                    cidr_block: Some("0.0.0.0/0".into()),
                    ..Default::default()
                });
                entries.push(NetworkAclEntry {
                    rule_number: 101,
                    protocol: "-1".into(),
                    rule_action: "allow".into(),
                    egress,
                    ipv6_cidr_block: Some("::/0".into()),
                    ..Default::default()
                });
            }
            ec2.network_acls.push(NetworkAcl {
                network_acl_id: format!("acl-{v}-{s}"),
                vpc_id: vpc.clone(),
                is_default: false,
                entries,
                subnet_ids: vec![subnet],
            });
        }
    }
    for p in 0..PREFIX_LISTS {
        ec2.managed_prefix_lists.push(ManagedPrefixList {
            prefix_list_id: format!("pl-{p}"),
            entries: (p != 0).then(|| {
                (0..20)
                    .map(|_| PrefixListEntry {
                        cidr: cidr24(&mut rng),
                        description: None,
                    })
                    .collect()
            }),
            ..Default::default()
        });
    }
    let ports = [5432, 3306, 1521, 1433];
    for g in 0..GROUPS {
        let vpc = format!("vpc-{}", g % VPCS);
        let mut ingress = Vec::with_capacity(PERMISSIONS_PER_GROUP);
        for k in 0..PERMISSIONS_PER_GROUP {
            let port = ports[rng.below(ports.len())];
            let mut perm = SecurityGroupPermission {
                ip_protocol: if k % 17 == 0 { "-1" } else { "tcp" }.into(),
                from_port: Some(port - (k % 3) as i32),
                to_port: Some(port + (k % 2) as i32),
                ..Default::default()
            };
            match k % 10 {
                0..=5 => perm.ipv4_ranges = vec![cidr24(&mut rng)],
                6 => {
                    perm.ipv4_ranges =
                        vec![format!("10.{}.{}.0/24", rng.below(VPCS), rng.below(256))]
                }
                7 => perm.prefix_list_ids = vec![format!("pl-{}", rng.below(PREFIX_LISTS))],
                8 => {
                    perm.security_groups = vec![SecurityGroupReference {
                        group_id: format!("sg-{}", rng.below(GROUPS)),
                        user_id: Some(ACCOUNT.into()),
                        ..Default::default()
                    }]
                }
                _ => {
                    perm.ipv6_ranges = vec![if g % 50 == 0 {
                        "::/0".into()
                    } else {
                        "2600:1f18::/40".into()
                    }]
                }
            }
            if g % 100 == 0 && k == 0 {
                perm.ipv4_ranges = vec!["0.0.0.0/0".into()];
            }
            ingress.push(perm);
        }
        ec2.security_groups.push(SecurityGroup {
            group_id: format!("sg-{g}"),
            group_name: if g < VPCS {
                "default".into()
            } else {
                format!("group-{g}")
            },
            vpc_id: Some(vpc),
            owner_id: Some(ACCOUNT.into()),
            ingress,
            egress: vec![SecurityGroupPermission {
                ip_protocol: "-1".into(),
                ipv4_ranges: vec!["0.0.0.0/0".into()],
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    for e in 0..INTERFACES {
        let v = e % VPCS;
        ec2.network_interfaces.push(NetworkInterface {
            network_interface_id: format!("eni-{e}"),
            subnet_id: Some(format!("subnet-{v}-{}", e % SUBNETS_PER_VPC)),
            vpc_id: Some(format!("vpc-{v}")),
            private_ip_addresses: vec![format!("10.{v}.{}.{}", (e / 250) % 256, e % 250 + 4)],
            group_ids: vec![
                format!("sg-{}", rng.below(GROUPS)),
                format!("sg-{}", rng.below(GROUPS)),
            ],
            ..Default::default()
        });
    }
    for v in 0..VPCS - 1 {
        ec2.vpc_peering_connections.push(VpcPeeringConnection {
            vpc_peering_connection_id: format!("pcx-{v}"),
            status: Some("active".into()),
            requester: VpcPeeringEnd {
                vpc_id: Some(format!("vpc-{v}")),
                cidr_blocks: vec![format!("10.{v}.0.0/16")],
                ..Default::default()
            },
            accepter: VpcPeeringEnd {
                vpc_id: Some(format!("vpc-{}", v + 1)),
                cidr_blocks: vec![format!("10.{}.0.0/16", v + 1)],
                ..Default::default()
            },
        });
    }
    for g in 0..100 {
        let v = g % VPCS;
        let first = rng.below(SUBNETS_PER_VPC - 2);
        r.rds.db_subnet_groups.push(DbSubnetGroup {
            name: format!("grp-{g}"),
            vpc_id: Some(format!("vpc-{v}")),
            subnet_ids: (first..first + 3)
                .map(|s| format!("subnet-{v}-{s}"))
                .collect(),
            ..Default::default()
        });
    }
    for d in 0..DATABASES {
        let grp = d % 100;
        let v = grp % VPCS;
        // Groups of the database's VPC (group g lives in vpc g % VPCS).
        let sg = |rng: &mut Lcg| {
            let g = rng.below(GROUPS / VPCS) * VPCS + v;
            VpcSecurityGroupMembership {
                vpc_security_group_id: format!("sg-{g}"),
                status: "active".into(),
            }
        };
        let port = ports[d % ports.len()];
        r.rds.db_instances.push(DbInstance {
            db_instance_identifier: format!("db-{d}"),
            db_instance_arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:db-{d}"),
            engine: "postgres".into(),
            port: Some(port as u16),
            publicly_accessible: d % 5 == 0,
            vpc_id: Some(format!("vpc-{v}")),
            db_subnet_group_name: Some(format!("grp-{grp}")),
            vpc_security_groups: vec![sg(&mut rng), sg(&mut rng)],
            ..Default::default()
        });
    }
    r
}

fn snapshot() -> Snapshot {
    let mut s = Snapshot::new(
        SnapshotSource {
            kind: "synthetic".into(),
            endpoint_url: None,
            regions: vec![REGION.into()],
        },
        "2026-06-01T00:00:00Z",
    );
    s.accounts.push(AccountSnapshot {
        account_id: ACCOUNT.into(),
        partition: "aws".into(),
        iam: None,
        regions: vec![region()],
        gaps: vec![],
        ..Default::default()
    });
    s
}

fn bench(c: &mut Criterion) {
    let snap = snapshot();
    let region = &snap.accounts[0].regions[0];
    let rules: usize = region
        .ec2
        .security_groups
        .iter()
        .map(|g| g.ingress.len())
        .sum();
    let report = rdsguard_network::analyze(&snap);
    let reachable = report
        .databases
        .iter()
        .filter(|d| d.internet_reachable == Some(true))
        .count();
    let json_bytes = serde_json::to_vec(&report).map_or(0, |v| v.len());
    eprintln!(
        "synthetic region: {} DBs, {rules} SG rules, {} ENIs; {reachable} reachable from the \
         internet; report JSON {} MB",
        region.rds.db_instances.len(),
        region.ec2.network_interfaces.len(),
        json_bytes / 1_000_000
    );
    // On a shared machine wall time includes waiting for a core: also report on-CPU time of
    // this thread (Linux /proc/thread-self/schedstat, nanoseconds), which load does not inflate.
    let runs = 5;
    let cpu0 = on_cpu_ns();
    let wall = std::time::Instant::now();
    for _ in 0..runs {
        black_box(rdsguard_network::analyze(black_box(&snap)));
    }
    if let (Some(a), Some(b)) = (cpu0, on_cpu_ns()) {
        eprintln!(
            "analyze: {:.1} ms on-CPU per run, {:.1} ms wall ({runs} runs)",
            (b - a) as f64 / 1e6 / runs as f64,
            wall.elapsed().as_secs_f64() * 1e3 / runs as f64
        );
    }
    let mut group = c.benchmark_group("exposure");
    group.sample_size(10);
    group.bench_function("analyze_5000_dbs_100k_rules_10k_enis", |b| {
        b.iter_with_large_drop(|| rdsguard_network::analyze(black_box(&snap)))
    });
    group.bench_function("to_json", |b| {
        b.iter(|| black_box(serde_json::to_vec(black_box(&report)).map(|v| v.len())))
    });
    group.finish();
}

fn on_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

criterion_group!(benches, bench);
criterion_main!(benches);

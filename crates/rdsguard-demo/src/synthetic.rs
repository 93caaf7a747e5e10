//! A deterministic generator of large, realistic synthetic accounts, for benchmarks and scale
//! tests: `synthetic(&SyntheticParams { db_instances: 100_000, .. })`.
//!
//! Proportions follow what large real estates look like: a VPC (9 subnets over 3 AZs, route
//! tables, NACLs, shared security groups) per ~50 databases; one dedicated security group per
//! database plus two shared ones (~3 rules per database); one network interface per database;
//! a few parameter groups per engine version shared by many databases; a customer managed key
//! per ~20 databases; about one snapshot per database; 10% of databases are Aurora cluster
//! members; one IAM principal per ~10 databases with twice as many policies. A small fraction
//! of everything is misconfigured (public, unencrypted, shared snapshots, weak TLS...), so
//! every check has work to do.
//!
//! The same parameters always give the same snapshot (a seeded SplitMix64, no global state).

use std::collections::BTreeMap;

use rdsguard_model::{
    AccountSnapshot, BackupData, CaCertificate, CloudTrailData, ClusterMember, DbCluster,
    DbInstance, DbProxy, DbSnapshot, DbSubnetGroup, Ec2Data, EngineVersion, EventSubscription,
    GroupMembership, IamData, IamGroup, IamRole, IamUser, InternetGateway, KmsAlias, KmsData,
    KmsGrant, KmsKey, ManagedPolicy, ManagedPrefixList, ManagementEvents, NatGateway, NetworkAcl,
    NetworkInterface, OptionGroup, OptionGroupOption, OptionSetting, Parameter, ParameterGroup,
    PrefixListEntry, ProxyAuth, RdsData, RegionSnapshot, RestoreAttribute, Route, RouteTable,
    RouteTableAssociation, SCHEMA_VERSION, SecurityGroup, SecurityHubData, Snapshot,
    SnapshotSource, Subnet, Tags, Trail, Vpc, VpcSecurityGroupMembership,
};

use crate::build::{
    PROTO_ALL, PROTO_TCP, PermissionSources, all_traffic, default_nacl_entries, fnv1a, nacl_entry,
    tcp,
};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticParams {
    /// DB instances in the whole account (Aurora members included).
    pub db_instances: usize,
    /// Regions to spread them over; clamped to 1..=[`REGION_NAMES`]`.len()`.
    pub regions: usize,
    /// PRNG seed: the same seed gives the same snapshot.
    pub seed: u64,
    /// The 12-digit account id.
    pub account_id: String,
    /// RFC 3339 collection time stamped on the snapshot.
    pub collected_at: String,
}

impl Default for SyntheticParams {
    fn default() -> Self {
        SyntheticParams {
            db_instances: 1_000,
            regions: 4,
            seed: 1,
            account_id: "111122223333".to_string(),
            collected_at: "2026-11-01T09:00:00Z".to_string(),
        }
    }
}

impl SyntheticParams {
    /// Defaults with `db_instances` instances.
    pub fn with_instances(db_instances: usize) -> Self {
        SyntheticParams {
            db_instances,
            ..Default::default()
        }
    }
}

/// Regions used, in order.
pub const REGION_NAMES: &[&str] = &[
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "ap-southeast-2",
    "eu-central-1",
    "ap-northeast-1",
    "us-east-2",
    "eu-west-2",
    "ca-central-1",
    "ap-south-1",
    "sa-east-1",
    "ap-southeast-1",
    "eu-north-1",
    "us-west-1",
    "eu-west-3",
    "ap-northeast-2",
];

/// Databases per VPC.
const DBS_PER_VPC: usize = 50;
/// Databases per customer managed KMS key.
const DBS_PER_KEY: usize = 20;
/// Databases per RDS proxy.
const DBS_PER_PROXY: usize = 500;
/// Accounts snapshots get shared with (the first looks like a partner, the rest unknown).
const OTHER_ACCOUNTS: &[&str] = &["444455556666", "999988887777", "210987654321"];

/// SplitMix64: tiny, fast, good enough statistically for test data, and a bijection on u64
/// (so mixing distinct counters yields distinct ids).
#[derive(Debug, Clone)]
struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform-enough in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Unique EC2/KMS-style ids: a counter mixed through SplitMix64 (distinct counters, distinct ids).
struct Ids {
    salt: u64,
    counter: u64,
}

impl Ids {
    fn next_hex(&mut self) -> u64 {
        self.counter += 1;
        mix(self.salt.wrapping_add(self.counter))
    }

    fn ec2(&mut self, prefix: &str) -> String {
        format!("{prefix}-0{:016x}", self.next_hex())
    }

    fn uuid(&mut self) -> String {
        let a = self.next_hex();
        let b = mix(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

/// An engine the generator uses, with its versions (the first deprecated ones are marked).
struct EngineSpec {
    engine: &'static str,
    /// (version, parameter group family, deprecated)
    versions: &'static [(&'static str, &'static str, bool)],
    port: u16,
    /// Percent of non-Aurora databases.
    weight: usize,
    logs: &'static [&'static str],
    default_user: &'static str,
}

const ENGINES: &[EngineSpec] = &[
    EngineSpec {
        engine: "postgres",
        versions: &[
            ("12.22", "postgres12", true),
            ("13.15", "postgres13", true),
            ("14.13", "postgres14", false),
            ("15.8", "postgres15", false),
            ("16.4", "postgres16", false),
        ],
        port: 5432,
        weight: 42,
        logs: &["postgresql", "upgrade"],
        default_user: "postgres",
    },
    EngineSpec {
        engine: "mysql",
        versions: &[
            ("5.7.44", "mysql5.7", true),
            ("8.0.35", "mysql8.0", false),
            ("8.0.40", "mysql8.0", false),
        ],
        port: 3306,
        weight: 28,
        logs: &["audit", "error", "general", "slowquery"],
        default_user: "admin",
    },
    EngineSpec {
        engine: "mariadb",
        versions: &[
            ("10.5.27", "mariadb10.5", false),
            ("10.6.19", "mariadb10.6", false),
        ],
        port: 3306,
        weight: 10,
        logs: &["audit", "error", "general", "slowquery"],
        default_user: "admin",
    },
    EngineSpec {
        engine: "sqlserver-se",
        versions: &[("15.00.4345.5.v1", "sqlserver-se-15.0", false)],
        port: 1433,
        weight: 9,
        logs: &["agent", "error"],
        default_user: "admin",
    },
    EngineSpec {
        engine: "oracle-ee",
        versions: &[("19.0.0.0.ru-2024-10.rur-2024-10.r1", "oracle-ee-19", false)],
        port: 1521,
        weight: 8,
        logs: &["alert", "audit", "listener", "trace"],
        default_user: "admin",
    },
    EngineSpec {
        engine: "db2-se",
        versions: &[("11.5.9.0.sb00000000.r1", "db2-se-11.5", false)],
        port: 50000,
        weight: 3,
        logs: &["diag.log", "notify.log"],
        default_user: "admin",
    },
];

const AURORA: &[EngineSpec] = &[
    EngineSpec {
        engine: "aurora-postgresql",
        versions: &[
            ("13.12", "aurora-postgresql13", true),
            ("16.4", "aurora-postgresql16", false),
        ],
        port: 5432,
        weight: 60,
        logs: &["postgresql"],
        default_user: "postgres",
    },
    EngineSpec {
        engine: "aurora-mysql",
        versions: &[
            ("5.7.mysql_aurora.2.11.5", "aurora-mysql5.7", true),
            ("8.0.mysql_aurora.3.05.2", "aurora-mysql8.0", false),
        ],
        port: 3306,
        weight: 40,
        logs: &["audit", "error", "general", "slowquery"],
        default_user: "admin",
    },
];

const APPS: &[&str] = &[
    "orders",
    "catalog",
    "billing",
    "payments",
    "search",
    "users",
    "inventory",
    "shipping",
    "reviews",
    "ledger",
    "events",
    "reports",
    "auth",
    "pricing",
    "media",
    "support",
];

const CLASSES: &[&str] = &[
    "db.t3.medium",
    "db.t4g.large",
    "db.m6g.large",
    "db.m6i.xlarge",
    "db.r6g.large",
    "db.r6g.xlarge",
    "db.r7g.2xlarge",
];

const CAS: &[&str] = &[
    "rds-ca-rsa2048-g1",
    "rds-ca-rsa2048-g1",
    "rds-ca-rsa2048-g1",
    "rds-ca-rsa4096-g1",
    "rds-ca-ecc384-g1",
    "rds-ca-2019",
];

/// Build a synthetic account snapshot.
pub fn synthetic(params: &SyntheticParams) -> Snapshot {
    let region_count = params.regions.clamp(1, REGION_NAMES.len());
    let regions: Vec<&str> = REGION_NAMES[..region_count].to_vec();
    let mut ids = Ids {
        salt: mix(params.seed),
        counter: 0,
    };
    let per_region = params.db_instances / region_count;
    let remainder = params.db_instances % region_count;
    let mut all_db_arns = Vec::new();
    let region_snapshots: Vec<RegionSnapshot> = regions
        .iter()
        .enumerate()
        .map(|(i, region)| {
            let count = per_region + usize::from(i < remainder);
            let mut rng = Rng(params.seed ^ fnv1a(region));
            let generator = RegionGen {
                account: &params.account_id,
                region,
                home_region: regions[0],
                count,
            };
            let snap = generator.build(&mut rng, &mut ids);
            all_db_arns.extend(
                snap.rds
                    .db_instances
                    .iter()
                    .map(|d| d.db_instance_arn.clone()),
            );
            snap
        })
        .collect();
    let mut rng = Rng(params.seed ^ 0x1a3);
    let iam = iam(
        &mut rng,
        &params.account_id,
        params.db_instances,
        &all_db_arns,
    );
    Snapshot {
        schema_version: SCHEMA_VERSION,
        collected_at: params.collected_at.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        source: SnapshotSource {
            kind: "synthetic".to_string(),
            endpoint_url: None,
            regions: regions.iter().map(|r| r.to_string()).collect(),
        },
        organization: None,
        accounts: vec![AccountSnapshot {
            account_id: params.account_id.clone(),
            partition: "aws".to_string(),
            iam: Some(iam),
            regions: region_snapshots,
            gaps: Vec::new(),
            ..Default::default()
        }],
    }
}

struct RegionGen<'a> {
    account: &'a str,
    region: &'a str,
    home_region: &'a str,
    count: usize,
}

/// Per-VPC ids the databases refer to.
struct VpcInfo {
    vpc_id: String,
    /// Third-octet base of the VPC's /20 (`10.<a>.<b>.0/20` → `"10.a"`, b).
    first_two: String,
    third: u32,
    public_subnets: Vec<String>,
    db_subnets: Vec<String>,
    app_sg: String,
    monitoring_sg: String,
    baseline_sg: String,
    db_subnet_group: String,
    public_subnet_group: String,
    /// Next host per DB subnet.
    next_host: [u32; 3],
}

impl VpcInfo {
    fn cidr(&self) -> String {
        format!("{}.{}.0/20", self.first_two, self.third)
    }
}

/// The parameter/option groups of one engine version, shared by its databases.
struct EngineGroups {
    parameter_groups: Vec<String>,
    cluster_parameter_groups: Vec<String>,
    option_groups: Vec<String>,
}

impl RegionGen<'_> {
    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.region, self.account
        )
    }

    fn build(&self, rng: &mut Rng, ids: &mut Ids) -> RegionSnapshot {
        let mut snap = RegionSnapshot::new(self.region);
        let vpc_count = self.count.div_ceil(DBS_PER_VPC).max(1);
        let office_pl = ids.ec2("pl");
        snap.ec2.managed_prefix_lists.push(ManagedPrefixList {
            prefix_list_id: office_pl.clone(),
            prefix_list_name: Some("office-cidrs".to_string()),
            address_family: Some("IPv4".to_string()),
            owner_id: Some(self.account.to_string()),
            entries: Some(vec![
                PrefixListEntry {
                    cidr: "203.0.113.0/24".to_string(),
                    description: Some("HQ".to_string()),
                },
                PrefixListEntry {
                    cidr: "198.51.100.0/26".to_string(),
                    description: Some("branch".to_string()),
                },
            ]),
        });
        let mut vpcs: Vec<VpcInfo> = (0..vpc_count)
            .map(|v| self.vpc(v, rng, ids, &office_pl, &mut snap.ec2, &mut snap.rds))
            .collect();

        let aws_rds_key = self.aws_rds_key(ids);
        let cmk_count = self.count.div_ceil(DBS_PER_KEY).max(1);
        let cmks: Vec<KmsKey> = (0..cmk_count).map(|k| self.cmk(k, rng, ids)).collect();
        let engine_groups = self.engine_groups(rng, &mut snap.rds);

        // Aurora members: 10% of the region's databases, in clusters of two.
        let aurora_members = self.count / 10;
        let standalone = self.count - aurora_members;
        let mut protected = Vec::new();
        let mut seq = 0usize;
        let pick_key = |rng: &mut Rng, db_index: usize| -> Option<String> {
            if rng.chance(8) {
                None
            } else if rng.chance(40) {
                Some(aws_rds_key.arn.clone())
            } else {
                Some(
                    cmks[(db_index / DBS_PER_KEY).min(cmks.len() - 1)]
                        .arn
                        .clone(),
                )
            }
        };

        for i in 0..standalone {
            let vpc_index = (i / DBS_PER_VPC).min(vpcs.len() - 1);
            let spec = pick_engine(rng);
            let version_index = rng.below(spec.versions.len());
            let key = pick_key(rng, i);
            seq += 1;
            let db = self.instance(
                rng,
                ids,
                seq,
                spec,
                version_index,
                &mut vpcs[vpc_index],
                &engine_groups[engine_group_index(spec, version_index)],
                key,
                &mut snap.ec2,
            );
            if rng.chance(30) {
                protected.push(db.db_instance_arn.clone());
            }
            snap.rds.db_snapshots.push(self.db_snapshot(rng, &db));
            snap.rds.db_instances.push(db);
        }
        // Read replicas: re-point a few MySQL/PostgreSQL instances at an earlier one.
        let mut last_source: BTreeMap<&str, String> = BTreeMap::new();
        for db in &mut snap.rds.db_instances {
            if !matches!(db.engine.as_str(), "mysql" | "postgres") {
                continue;
            }
            match last_source.get(db.engine.as_str()) {
                Some(source) if rng.chance(5) => {
                    db.read_replica_source_db_instance_identifier = Some(source.clone());
                    db.backup_retention_period = 0;
                }
                _ => {
                    let engine: &str = if db.engine == "mysql" {
                        "mysql"
                    } else {
                        "postgres"
                    };
                    last_source.insert(engine, db.db_instance_identifier.clone());
                }
            }
        }

        let mut member = 0;
        let mut cluster_index = 0;
        while member < aurora_members {
            let size = (aurora_members - member).min(2);
            let vpc_index = ((standalone + member) / DBS_PER_VPC).min(vpcs.len() - 1);
            let spec = &AURORA[usize::from(!rng.chance(AURORA[0].weight as u64))];
            let version_index = rng.below(spec.versions.len());
            let key = pick_key(rng, standalone + member);
            let groups = &engine_groups
                [ENGINE_GROUP_OFFSET_AURORA + engine_group_index_aurora(spec, version_index)];
            cluster_index += 1;
            let (cluster, members) = self.cluster(
                rng,
                ids,
                cluster_index,
                size,
                spec,
                version_index,
                &mut vpcs[vpc_index],
                groups,
                key,
                &mut snap.ec2,
            );
            snap.rds
                .db_cluster_snapshots
                .push(self.cluster_snapshot(rng, &cluster));
            snap.rds.db_clusters.push(cluster);
            snap.rds.db_instances.extend(members);
            member += size;
        }

        self.proxies(rng, &vpcs, &mut snap);
        self.region_services(&mut snap, protected);

        let mut keys = vec![aws_rds_key];
        keys.extend(cmks);
        snap.kms = KmsData {
            aliases: keys
                .iter()
                .flat_map(|k| {
                    k.aliases.iter().map(|a| KmsAlias {
                        alias_name: a.clone(),
                        alias_arn: Some(self.arn("kms", a)),
                        target_key_id: Some(k.key_id.clone()),
                    })
                })
                .collect(),
            keys,
        };
        snap
    }

    fn vpc(
        &self,
        v: usize,
        rng: &mut Rng,
        ids: &mut Ids,
        office_pl: &str,
        ec2: &mut Ec2Data,
        rds: &mut RdsData,
    ) -> VpcInfo {
        let vpc_id = ids.ec2("vpc");
        let first_two = format!("10.{}", (v / 16) % 256);
        let third = ((v % 16) * 16) as u32;
        let cidr = format!("{first_two}.{third}.0/20");
        let igw = ids.ec2("igw");
        let nat = ids.ec2("nat");
        let env = if v % 4 == 3 { "staging" } else { "prod" };
        ec2.vpcs.push(Vpc {
            vpc_id: vpc_id.clone(),
            owner_id: Some(self.account.to_string()),
            cidr_blocks: vec![cidr.clone()],
            ipv6_cidr_blocks: Vec::new(),
            is_default: false,
            tags: small_tags("Name", &format!("{env}-vpc-{v}"), env),
        });
        ec2.internet_gateways.push(InternetGateway {
            id: igw.clone(),
            attached_vpc_ids: vec![vpc_id.clone()],
        });
        let mut public = Vec::new();
        let mut private = Vec::new();
        let mut db = Vec::new();
        for (tier_index, list) in [&mut public, &mut private, &mut db].into_iter().enumerate() {
            for az in 0..3u32 {
                let id = ids.ec2("subnet");
                let octet = third + tier_index as u32 * 3 + az;
                ec2.subnets.push(Subnet {
                    subnet_id: id.clone(),
                    vpc_id: vpc_id.clone(),
                    availability_zone: Some(format!(
                        "{}{}",
                        self.region,
                        ["a", "b", "c"][az as usize]
                    )),
                    cidr_block: Some(format!("{first_two}.{octet}.0/24")),
                    ipv6_cidr_blocks: Vec::new(),
                    map_public_ip_on_launch: tier_index == 0,
                    tags: Tags::new(),
                });
                list.push(id);
            }
        }
        let local = Route {
            destination_cidr_block: Some(cidr.clone()),
            gateway_id: Some("local".to_string()),
            state: Some("active".to_string()),
            ..Default::default()
        };
        let assoc = |subnets: &[String]| -> Vec<RouteTableAssociation> {
            subnets
                .iter()
                .map(|s| RouteTableAssociation {
                    subnet_id: Some(s.clone()),
                    ..Default::default()
                })
                .collect()
        };
        ec2.route_tables.push(RouteTable {
            route_table_id: ids.ec2("rtb"),
            vpc_id: vpc_id.clone(),
            routes: vec![local.clone()],
            associations: vec![RouteTableAssociation {
                main: true,
                ..Default::default()
            }],
        });
        ec2.route_tables.push(RouteTable {
            route_table_id: ids.ec2("rtb"),
            vpc_id: vpc_id.clone(),
            routes: vec![
                local.clone(),
                Route {
                    destination_cidr_block: Some("0.0.0.0/0".to_string()),
                    gateway_id: Some(igw),
                    state: Some("active".to_string()),
                    ..Default::default()
                },
            ],
            associations: assoc(&public),
        });
        ec2.route_tables.push(RouteTable {
            route_table_id: ids.ec2("rtb"),
            vpc_id: vpc_id.clone(),
            routes: vec![
                local,
                Route {
                    destination_cidr_block: Some("0.0.0.0/0".to_string()),
                    nat_gateway_id: Some(nat.clone()),
                    state: Some("active".to_string()),
                    ..Default::default()
                },
            ],
            associations: assoc(&private),
        });
        ec2.nat_gateways.push(NatGateway {
            nat_gateway_id: nat,
            vpc_id: Some(vpc_id.clone()),
            subnet_id: public.first().cloned(),
            connectivity_type: Some("public".to_string()),
            state: Some("available".to_string()),
        });
        let mut default_subnets = public.clone();
        default_subnets.extend(private.iter().cloned());
        ec2.network_acls.push(NetworkAcl {
            network_acl_id: ids.ec2("acl"),
            vpc_id: vpc_id.clone(),
            is_default: true,
            entries: default_nacl_entries(false),
            subnet_ids: default_subnets,
        });
        let mut db_entries = Vec::new();
        for (n, port) in [5432, 3306, 1433, 1521, 50000].iter().enumerate() {
            db_entries.push(nacl_entry(
                100 + n as i32 * 10,
                false,
                "allow",
                PROTO_TCP,
                "10.0.0.0/8",
                Some((*port, *port)),
            ));
        }
        if rng.chance(20) {
            // Some teams also open the DB subnets to everyone on PostgreSQL.
            db_entries.push(nacl_entry(
                200,
                false,
                "allow",
                PROTO_TCP,
                "0.0.0.0/0",
                Some((5432, 5432)),
            ));
        }
        db_entries.push(nacl_entry(
            32767,
            false,
            "deny",
            PROTO_ALL,
            "0.0.0.0/0",
            None,
        ));
        db_entries.push(nacl_entry(
            100,
            true,
            "allow",
            PROTO_TCP,
            "10.0.0.0/8",
            Some((1024, 65535)),
        ));
        db_entries.push(nacl_entry(
            32767,
            true,
            "deny",
            PROTO_ALL,
            "0.0.0.0/0",
            None,
        ));
        ec2.network_acls.push(NetworkAcl {
            network_acl_id: ids.ec2("acl"),
            vpc_id: vpc_id.clone(),
            is_default: false,
            entries: db_entries,
            subnet_ids: db.clone(),
        });

        let default_sg = ids.ec2("sg");
        let app_sg = ids.ec2("sg");
        let bastion_sg = ids.ec2("sg");
        let monitoring_sg = ids.ec2("sg");
        let baseline_sg = ids.ec2("sg");
        let group = |id: &str, name: String, ingress| SecurityGroup {
            group_id: id.to_string(),
            group_name: name,
            vpc_id: Some(vpc_id.clone()),
            owner_id: Some(self.account.to_string()),
            description: None,
            ingress,
            egress: vec![all_traffic().cidr("0.0.0.0/0")],
            tags: Tags::new(),
        };
        ec2.security_groups.extend([
            group(
                &default_sg,
                "default".to_string(),
                vec![all_traffic().group(&default_sg)],
            ),
            group(
                &app_sg,
                format!("app-{v}"),
                vec![tcp(443).cidr(&cidr), tcp(8080).cidr(&cidr)],
            ),
            group(
                &bastion_sg,
                format!("bastion-{v}"),
                vec![tcp(22).prefix_list(office_pl)],
            ),
            group(
                &monitoring_sg,
                format!("db-monitoring-{v}"),
                vec![tcp(9187).group(&app_sg), tcp(9104).group(&app_sg)],
            ),
            group(
                &baseline_sg,
                format!("db-baseline-{v}"),
                vec![
                    tcp(5432).group(&bastion_sg),
                    tcp(3306).group(&bastion_sg),
                    tcp(1433).group(&bastion_sg),
                ],
            ),
        ]);
        for n in 0..4 {
            ec2.network_interfaces.push(NetworkInterface {
                network_interface_id: ids.ec2("eni"),
                subnet_id: Some(private[n % 3].clone()),
                vpc_id: Some(vpc_id.clone()),
                owner_id: Some(self.account.to_string()),
                interface_type: Some("interface".to_string()),
                description: None,
                requester_id: None,
                private_ip_addresses: vec![format!(
                    "{first_two}.{}.{}",
                    third + 3 + (n as u32 % 3),
                    10 + n
                )],
                ipv6_addresses: Vec::new(),
                public_ip: None,
                group_ids: vec![app_sg.clone()],
                attached_instance_id: Some(ids.ec2("i")),
            });
        }

        let db_subnet_group = format!("db-subnets-{v}");
        let public_subnet_group = format!("public-subnets-{v}");
        rds.db_subnet_groups.push(DbSubnetGroup {
            name: db_subnet_group.clone(),
            arn: Some(self.arn("rds", &format!("subgrp:{db_subnet_group}"))),
            vpc_id: Some(vpc_id.clone()),
            subnet_ids: db.clone(),
            tags: Tags::new(),
        });
        rds.db_subnet_groups.push(DbSubnetGroup {
            name: public_subnet_group.clone(),
            arn: Some(self.arn("rds", &format!("subgrp:{public_subnet_group}"))),
            vpc_id: Some(vpc_id.clone()),
            subnet_ids: public.clone(),
            tags: Tags::new(),
        });
        VpcInfo {
            vpc_id,
            first_two,
            third,
            public_subnets: public,
            db_subnets: db,
            app_sg,
            monitoring_sg,
            baseline_sg,
            db_subnet_group,
            public_subnet_group,
            next_host: [10; 3],
        }
    }

    /// The grants RDS holds on a key for the databases it encrypts (one encryption context
    /// each), as ListGrants returns them.
    fn rds_grants(&self, key: &str, n: usize) -> Vec<KmsGrant> {
        let service = format!("rds.{}.amazonaws.com", self.region);
        (0..n)
            .map(|i| KmsGrant {
                grant_id: format!("{key}-grant-{i}"),
                grantee_principal: Some(service.clone()),
                retiring_principal: Some(service.clone()),
                operations: [
                    "Decrypt",
                    "Encrypt",
                    "GenerateDataKey",
                    "CreateGrant",
                    "RetireGrant",
                ]
                .iter()
                .map(|o| o.to_string())
                .collect(),
                encryption_context_subset: Some(
                    [("aws:rds:db-id".to_string(), format!("db-{key}-{i}"))]
                        .into_iter()
                        .collect(),
                ),
                ..Default::default()
            })
            .collect()
    }

    fn aws_rds_key(&self, ids: &mut Ids) -> KmsKey {
        let key_id = ids.uuid();
        KmsKey {
            arn: self.arn("kms", &format!("key/{key_id}")),
            key_id,
            key_manager: Some("AWS".to_string()),
            key_state: Some("Enabled".to_string()),
            key_spec: Some("SYMMETRIC_DEFAULT".to_string()),
            key_usage: Some("ENCRYPT_DECRYPT".to_string()),
            origin: Some("AWS_KMS".to_string()),
            multi_region: Some(false),
            rotation_enabled: Some(true),
            rotation_period_in_days: Some(365),
            policy: Some(format!(
                r#"{{"Version":"2012-10-17","Id":"auto-rds-2","Statement":[{{"Sid":"Allow access through RDS","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:CreateGrant","kms:ListGrants","kms:DescribeKey"],"Resource":"*","Condition":{{"StringEquals":{{"kms:CallerAccount":"{}","kms:ViaService":"rds.{}.amazonaws.com"}}}}}}]}}"#,
                self.account, self.region
            )),
            grants_count: Some(50),
            grants: Some(self.rds_grants("aws-rds", 50)),
            aliases: vec!["alias/aws/rds".to_string()],
            ..Default::default()
        }
    }

    fn cmk(&self, k: usize, rng: &mut Rng, ids: &mut Ids) -> KmsKey {
        let key_id = ids.uuid();
        let arn = self.arn("kms", &format!("key/{key_id}"));
        let public = rng.chance(2);
        let state = if rng.chance(2) {
            "Disabled"
        } else if rng.chance(1) {
            "PendingDeletion"
        } else {
            "Enabled"
        };
        let rotation = rng.chance(80);
        let extra = if public {
            format!(
                r#",{{"Sid":"Share","Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"{arn}"}}"#
            )
        } else {
            String::new()
        };
        let grants = rng.below(6);
        KmsKey {
            policy: Some(format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:root"}},"Action":"kms:*","Resource":"*"}},{{"Sid":"Allow use of the key","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:role/app-role-{r}"}},"Action":["kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"}}{extra}]}}"#,
                acct = self.account,
                r = k % 7,
            )),
            arn,
            key_manager: Some("CUSTOMER".to_string()),
            key_state: Some(state.to_string()),
            key_spec: Some("SYMMETRIC_DEFAULT".to_string()),
            key_usage: Some("ENCRYPT_DECRYPT".to_string()),
            origin: Some("AWS_KMS".to_string()),
            multi_region: Some(false),
            deletion_date: (state == "PendingDeletion").then(|| "2026-11-20T00:00:00Z".to_string()),
            rotation_enabled: Some(rotation),
            rotation_period_in_days: rotation.then_some(365),
            grants_count: Some(grants as u32),
            grants: Some(self.rds_grants(&format!("db-key-{k}"), grants)),
            aliases: vec![format!("alias/db-key-{k}")],
            tags: small_tags("Purpose", "rds", "prod"),
            key_id,
            ..Default::default()
        }
    }

    /// Parameter and option groups: for each engine version a default group and three custom
    /// ones (TLS enforced, legacy, audit), in the order of [`engine_group_index`].
    fn engine_groups(&self, rng: &mut Rng, rds: &mut RdsData) -> Vec<EngineGroups> {
        let mut out = Vec::new();
        for (aurora, specs) in [(false, ENGINES), (true, AURORA)] {
            for spec in specs {
                for (version, family, _) in spec.versions {
                    let mut pgs = Vec::new();
                    let mut cpgs = Vec::new();
                    for (flavour, values) in [
                        ("default", tls_values(spec.engine, false, rng)),
                        ("tls", tls_values(spec.engine, true, rng)),
                        ("legacy", tls_values(spec.engine, false, rng)),
                        ("audit", tls_values(spec.engine, true, rng)),
                    ] {
                        let name = if flavour == "default" {
                            format!("default.{family}")
                        } else {
                            format!("{family}-{flavour}")
                        };
                        // Several versions can share one family: create each group once.
                        let list = if aurora {
                            &mut rds.db_cluster_parameter_groups
                        } else {
                            &mut rds.db_parameter_groups
                        };
                        if !list.iter().any(|g| g.name == name) {
                            let kind = if aurora { "cluster-pg" } else { "pg" };
                            list.push(ParameterGroup {
                                arn: Some(self.arn("rds", &format!("{kind}:{name}"))),
                                name: name.clone(),
                                family: family.to_string(),
                                description: None,
                                parameters: values,
                            });
                        }
                        if aurora {
                            cpgs.push(name);
                        } else {
                            pgs.push(name);
                        }
                    }
                    if aurora {
                        let name = format!("default.{family}");
                        if !rds.db_parameter_groups.iter().any(|g| g.name == name) {
                            rds.db_parameter_groups.push(ParameterGroup {
                                arn: Some(self.arn("rds", &format!("pg:{name}"))),
                                name: name.clone(),
                                family: family.to_string(),
                                description: None,
                                parameters: BTreeMap::new(),
                            });
                        }
                        pgs.push(name);
                    }
                    let major = major_version(spec.engine, version);
                    let default_og = format!("default:{}-{}", spec.engine, major.replace('.', "-"));
                    let mut ogs = vec![default_og.clone()];
                    if !rds.option_groups.iter().any(|o| o.name == default_og) {
                        rds.option_groups.push(OptionGroup {
                            arn: Some(self.arn("rds", &format!("og:{default_og}"))),
                            name: default_og,
                            engine_name: spec.engine.to_string(),
                            major_engine_version: major.clone(),
                            options: Vec::new(),
                        });
                    }
                    if let Some(options) = custom_options(spec.engine) {
                        for (n, opts) in options.into_iter().enumerate() {
                            let name = format!("{}-{}-{n}", spec.engine, major.replace('.', "-"));
                            if !rds.option_groups.iter().any(|o| o.name == name) {
                                rds.option_groups.push(OptionGroup {
                                    arn: Some(self.arn("rds", &format!("og:{name}"))),
                                    name: name.clone(),
                                    engine_name: spec.engine.to_string(),
                                    major_engine_version: major.clone(),
                                    options: opts,
                                });
                            }
                            ogs.push(name);
                        }
                    }
                    out.push(EngineGroups {
                        parameter_groups: pgs,
                        cluster_parameter_groups: cpgs,
                        option_groups: ogs,
                    });
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn instance(
        &self,
        rng: &mut Rng,
        ids: &mut Ids,
        seq: usize,
        spec: &EngineSpec,
        version_index: usize,
        vpc: &mut VpcInfo,
        groups: &EngineGroups,
        key: Option<String>,
        ec2: &mut Ec2Data,
    ) -> DbInstance {
        let app = *rng.pick(APPS);
        let id = format!("{app}-{}-{seq:06}", short_engine(spec.engine));
        let public = rng.chance(3);
        let (version, _, deprecated) = spec.versions[version_index];
        let port = if rng.chance(10) {
            spec.port + 1
        } else {
            spec.port
        };
        let az_index = rng.below(3);

        // The database's own security group: app tier and VPC on its port, sometimes worse.
        let own_sg = ids.ec2("sg");
        let p = i32::from(port);
        let mut ingress = vec![tcp(p).group(&vpc.app_sg), tcp(p).cidr(&vpc.cidr())];
        if rng.chance(5) {
            ingress.push(tcp(p).cidr("0.0.0.0/0"));
        }
        if rng.chance(2) {
            ingress.push(tcp(p).cidr6("::/0"));
        }
        if rng.chance(3) {
            ingress.push(all_traffic().cidr("10.0.0.0/8"));
        }
        ec2.security_groups.push(SecurityGroup {
            group_id: own_sg.clone(),
            group_name: format!("{id}-sg"),
            vpc_id: Some(vpc.vpc_id.clone()),
            owner_id: Some(self.account.to_string()),
            description: None,
            ingress,
            egress: vec![all_traffic().cidr("0.0.0.0/0")],
            tags: Tags::new(),
        });
        let (subnet, ip) = self.place(vpc, az_index, public);
        let sgs = [&own_sg, &vpc.monitoring_sg, &vpc.baseline_sg];
        ec2.network_interfaces.push(NetworkInterface {
            network_interface_id: ids.ec2("eni"),
            subnet_id: Some(subnet),
            vpc_id: Some(vpc.vpc_id.clone()),
            owner_id: Some(self.account.to_string()),
            interface_type: Some("interface".to_string()),
            description: Some("RDSNetworkInterface".to_string()),
            requester_id: Some("amazon-rds".to_string()),
            private_ip_addresses: vec![ip],
            ipv6_addresses: Vec::new(),
            public_ip: public.then(|| public_ip(rng)),
            group_ids: sgs.iter().map(|s| s.to_string()).collect(),
            attached_instance_id: None,
        });

        let encrypted = key.is_some();
        let logs = if rng.chance(50) {
            spec.logs.iter().map(|s| s.to_string()).collect()
        } else if rng.chance(50) {
            spec.logs.iter().take(1).map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        };
        let monitoring = *rng.pick(&[0, 0, 1, 30, 60]);
        let resource_id = format!("db-{:026X}", u128::from(ids.next_hex()));
        let ca = *rng.pick(CAS);
        let iam_supported = !matches!(spec.engine, "sqlserver-se" | "oracle-ee" | "db2-se");
        DbInstance {
            db_instance_arn: self.arn("rds", &format!("db:{id}")),
            endpoint_address: Some(format!(
                "{id}.cxyz{:08x}.{}.rds.amazonaws.com",
                seq, self.region
            )),
            engine: spec.engine.to_string(),
            engine_version: version.to_string(),
            db_instance_class: rng.pick(CLASSES).to_string(),
            db_instance_status: "available".to_string(),
            publicly_accessible: public,
            storage_encrypted: encrypted,
            kms_key_id: key,
            port: Some(port),
            vpc_id: Some(vpc.vpc_id.clone()),
            db_subnet_group_name: Some(if public {
                vpc.public_subnet_group.clone()
            } else {
                vpc.db_subnet_group.clone()
            }),
            vpc_security_groups: sgs.iter().map(|s| membership_sg(s)).collect(),
            db_parameter_groups: vec![in_sync(rng.pick(&groups.parameter_groups[..]).as_str())],
            option_group_memberships: vec![in_sync(rng.pick(&groups.option_groups[..]).as_str())],
            multi_az: rng.chance(50),
            availability_zone: Some(format!("{}{}", self.region, ["a", "b", "c"][az_index])),
            backup_retention_period: *rng.pick(&[0, 1, 7, 7, 7, 14, 35]),
            deletion_protection: rng.chance(60),
            iam_database_authentication_enabled: iam_supported && rng.chance(30),
            auto_minor_version_upgrade: rng.chance(80),
            enabled_cloudwatch_logs_exports: logs,
            monitoring_interval: Some(monitoring),
            enhanced_monitoring_resource_arn: (monitoring > 0).then(|| {
                self.arn(
                    "logs",
                    &format!("log-group:RDSOSMetrics:log-stream:{resource_id}"),
                )
            }),
            dbi_resource_id: Some(resource_id),
            copy_tags_to_snapshot: rng.chance(70),
            master_username: Some(if rng.chance(15) {
                spec.default_user.to_string()
            } else {
                format!("{app}_admin")
            }),
            manage_master_user_password: rng.chance(50),
            ca_certificate_identifier: Some(ca.to_string()),
            certificate_valid_till: Some(if ca == "rds-ca-2019" {
                "2024-08-22T17:08:50Z".to_string()
            } else {
                format!(
                    "{}-{:02}-15T00:00:00Z",
                    2026 + rng.below(2),
                    1 + rng.below(12)
                )
            }),
            performance_insights_enabled: rng.chance(40),
            engine_lifecycle_support: (deprecated && rng.chance(60))
                .then(|| "open-source-rds-extended-support".to_string()),
            storage_type: Some("gp3".to_string()),
            tags: if rng.chance(90) {
                small_tags("Application", app, "prod")
            } else {
                Tags::new()
            },
            db_instance_identifier: id,
            ..Default::default()
        }
    }

    /// A subnet of the right tier in the AZ, and the next free address in it.
    fn place(&self, vpc: &mut VpcInfo, az_index: usize, public: bool) -> (String, String) {
        let subnets = if public {
            &vpc.public_subnets
        } else {
            &vpc.db_subnets
        };
        let tier_offset = if public { 0 } else { 6 };
        let host = &mut vpc.next_host[az_index];
        *host = if *host >= 250 { 10 } else { *host + 1 };
        (
            subnets[az_index].clone(),
            format!(
                "{}.{}.{}",
                vpc.first_two,
                vpc.third + tier_offset + az_index as u32,
                host
            ),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn cluster(
        &self,
        rng: &mut Rng,
        ids: &mut Ids,
        index: usize,
        size: usize,
        spec: &EngineSpec,
        version_index: usize,
        vpc: &mut VpcInfo,
        groups: &EngineGroups,
        key: Option<String>,
        ec2: &mut Ec2Data,
    ) -> (DbCluster, Vec<DbInstance>) {
        let app = *rng.pick(APPS);
        let id = format!("{app}-{}-cluster-{index:05}", short_engine(spec.engine));
        let (version, _, _) = spec.versions[version_index];
        let p = i32::from(spec.port);
        let own_sg = ids.ec2("sg");
        let mut ingress = vec![tcp(p).group(&vpc.app_sg), tcp(p).cidr(&vpc.cidr())];
        if rng.chance(4) {
            ingress.push(tcp(p).cidr("0.0.0.0/0"));
        }
        ec2.security_groups.push(SecurityGroup {
            group_id: own_sg.clone(),
            group_name: format!("{id}-sg"),
            vpc_id: Some(vpc.vpc_id.clone()),
            owner_id: Some(self.account.to_string()),
            description: None,
            ingress,
            egress: vec![all_traffic().cidr("0.0.0.0/0")],
            tags: Tags::new(),
        });
        let sgs: Vec<VpcSecurityGroupMembership> = [&own_sg, &vpc.monitoring_sg, &vpc.baseline_sg]
            .iter()
            .map(|s| membership_sg(s))
            .collect();
        let encrypted = key.is_some();
        let iam_auth = rng.chance(40);
        let backup = *rng.pick(&[1, 7, 7, 14, 35]);
        let deletion_protection = rng.chance(70);
        let logs: Vec<String> = if rng.chance(60) {
            spec.logs.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        };
        let mut members = Vec::new();
        let mut instances = Vec::new();
        for m in 0..size {
            let member_id = format!("{id}-{}", m + 1);
            let az_index = m % 3;
            let (subnet, ip) = self.place(vpc, az_index, false);
            let public = rng.chance(2);
            ec2.network_interfaces.push(NetworkInterface {
                network_interface_id: ids.ec2("eni"),
                subnet_id: Some(subnet),
                vpc_id: Some(vpc.vpc_id.clone()),
                owner_id: Some(self.account.to_string()),
                interface_type: Some("interface".to_string()),
                description: Some("RDSNetworkInterface".to_string()),
                requester_id: Some("amazon-rds".to_string()),
                private_ip_addresses: vec![ip],
                ipv6_addresses: Vec::new(),
                public_ip: public.then(|| public_ip(rng)),
                group_ids: sgs
                    .iter()
                    .map(|s| s.vpc_security_group_id.clone())
                    .collect(),
                attached_instance_id: None,
            });
            members.push(ClusterMember {
                db_instance_identifier: member_id.clone(),
                is_cluster_writer: m == 0,
                db_cluster_parameter_group_status: Some("in-sync".to_string()),
            });
            instances.push(DbInstance {
                db_instance_arn: self.arn("rds", &format!("db:{member_id}")),
                dbi_resource_id: Some(format!("db-{:026X}", u128::from(ids.next_hex()))),
                engine: spec.engine.to_string(),
                engine_version: version.to_string(),
                db_instance_class: rng.pick(CLASSES).to_string(),
                db_instance_status: "available".to_string(),
                db_cluster_identifier: Some(id.clone()),
                publicly_accessible: public,
                storage_encrypted: encrypted,
                kms_key_id: key.clone(),
                port: Some(spec.port),
                vpc_id: Some(vpc.vpc_id.clone()),
                db_subnet_group_name: Some(vpc.db_subnet_group.clone()),
                vpc_security_groups: sgs.clone(),
                db_parameter_groups: vec![in_sync(&groups.parameter_groups[0])],
                option_group_memberships: vec![in_sync(&groups.option_groups[0])],
                availability_zone: Some(format!("{}{}", self.region, ["a", "b", "c"][az_index])),
                backup_retention_period: backup,
                deletion_protection,
                iam_database_authentication_enabled: iam_auth,
                auto_minor_version_upgrade: rng.chance(85),
                enabled_cloudwatch_logs_exports: logs.clone(),
                monitoring_interval: Some(*rng.pick(&[0, 60])),
                master_username: Some(format!("{app}_admin")),
                ca_certificate_identifier: Some(rng.pick(CAS).to_string()),
                certificate_valid_till: Some("2027-06-01T00:00:00Z".to_string()),
                performance_insights_enabled: rng.chance(50),
                storage_type: Some("aurora".to_string()),
                db_instance_identifier: member_id,
                ..Default::default()
            });
        }
        let azs: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|z| format!("{}{z}", self.region))
            .collect();
        let cluster = DbCluster {
            db_cluster_arn: self.arn("rds", &format!("cluster:{id}")),
            engine: spec.engine.to_string(),
            engine_version: version.to_string(),
            engine_mode: Some("provisioned".to_string()),
            status: "available".to_string(),
            multi_az: size > 1,
            members,
            availability_zones: azs,
            storage_encrypted: encrypted,
            kms_key_id: key,
            endpoint: Some(format!(
                "{id}.cluster-cxyz.{}.rds.amazonaws.com",
                self.region
            )),
            port: Some(spec.port),
            vpc_security_groups: sgs,
            db_subnet_group: Some(vpc.db_subnet_group.clone()),
            db_cluster_parameter_group: Some(rng.pick(&groups.cluster_parameter_groups).clone()),
            backup_retention_period: backup,
            deletion_protection,
            iam_database_authentication_enabled: iam_auth,
            enabled_cloudwatch_logs_exports: logs,
            copy_tags_to_snapshot: rng.chance(70),
            master_username: Some(format!("{app}_admin")),
            manage_master_user_password: rng.chance(50),
            backtrack_window: (spec.engine == "aurora-mysql" && rng.chance(30)).then_some(86_400),
            tags: small_tags("Application", app, "prod"),
            db_cluster_identifier: id,
            ..Default::default()
        };
        (cluster, instances)
    }

    fn db_snapshot(&self, rng: &mut Rng, db: &DbInstance) -> DbSnapshot {
        let manual = rng.chance(30);
        let identifier = if manual {
            format!("{}-manual-2026-10", db.db_instance_identifier)
        } else {
            format!("rds:{}-2026-10-31-03-00", db.db_instance_identifier)
        };
        DbSnapshot {
            arn: self.arn("rds", &format!("snapshot:{identifier}")),
            identifier,
            source_identifier: Some(db.db_instance_identifier.clone()),
            engine: db.engine.clone(),
            engine_version: Some(db.engine_version.clone()),
            snapshot_type: if manual { "manual" } else { "automated" }.to_string(),
            status: Some("available".to_string()),
            encrypted: db.storage_encrypted,
            kms_key_id: db.kms_key_id.clone(),
            snapshot_create_time: Some("2026-10-31T03:00:00Z".to_string()),
            restore: manual.then(|| restore_attribute(rng, db.storage_encrypted)),
            tags: Tags::new(),
        }
    }

    fn cluster_snapshot(&self, rng: &mut Rng, cluster: &DbCluster) -> DbSnapshot {
        let manual = rng.chance(30);
        let identifier = if manual {
            format!("{}-manual-2026-10", cluster.db_cluster_identifier)
        } else {
            format!("rds:{}-2026-10-31-04-00", cluster.db_cluster_identifier)
        };
        DbSnapshot {
            arn: self.arn("rds", &format!("cluster-snapshot:{identifier}")),
            identifier,
            source_identifier: Some(cluster.db_cluster_identifier.clone()),
            engine: cluster.engine.clone(),
            engine_version: Some(cluster.engine_version.clone()),
            snapshot_type: if manual { "manual" } else { "automated" }.to_string(),
            status: Some("available".to_string()),
            encrypted: cluster.storage_encrypted,
            kms_key_id: cluster.kms_key_id.clone(),
            snapshot_create_time: Some("2026-10-31T04:00:00Z".to_string()),
            restore: manual.then(|| restore_attribute(rng, cluster.storage_encrypted)),
            tags: Tags::new(),
        }
    }

    fn proxies(&self, rng: &mut Rng, vpcs: &[VpcInfo], snap: &mut RegionSnapshot) {
        let count = self.count / DBS_PER_PROXY;
        for n in 0..count {
            let vpc = &vpcs[(n * DBS_PER_PROXY / DBS_PER_VPC).min(vpcs.len() - 1)];
            let postgres = rng.chance(60);
            let name = format!("proxy-{n:04}");
            snap.rds.db_proxies.push(DbProxy {
                arn: self.arn(
                    "rds",
                    &format!("db-proxy:prx-0{:016x}", mix(n as u64 ^ 0x9)),
                ),
                engine_family: if postgres { "POSTGRESQL" } else { "MYSQL" }.to_string(),
                require_tls: rng.chance(70),
                vpc_id: Some(vpc.vpc_id.clone()),
                vpc_security_group_ids: vec![vpc.app_sg.clone()],
                vpc_subnet_ids: vpc.db_subnets.clone(),
                endpoint: Some(format!(
                    "{name}.proxy-cxyz.{}.rds.amazonaws.com",
                    self.region
                )),
                auth: vec![ProxyAuth {
                    auth_scheme: Some("SECRETS".to_string()),
                    iam_auth: Some(
                        if rng.chance(50) {
                            "REQUIRED"
                        } else {
                            "DISABLED"
                        }
                        .to_string(),
                    ),
                    client_password_auth_type: Some(
                        if postgres {
                            "POSTGRES_SCRAM_SHA_256"
                        } else {
                            "MYSQL_NATIVE_PASSWORD"
                        }
                        .to_string(),
                    ),
                    secret_arn: Some(self.arn("secretsmanager", &format!("secret:{name}-AbCdEf"))),
                }],
                debug_logging: rng.chance(10),
                status: Some("available".to_string()),
                tags: Tags::new(),
                name,
            });
        }
    }

    /// Event subscriptions, certificates, engine versions, CloudTrail, Security Hub, Backup.
    fn region_services(&self, snap: &mut RegionSnapshot, protected: Vec<String>) {
        for (name, source_type) in [
            ("db-instance-events", "db-instance"),
            ("db-cluster-events", "db-cluster"),
        ] {
            snap.rds.event_subscriptions.push(EventSubscription {
                name: name.to_string(),
                arn: Some(self.arn("rds", &format!("es:{name}"))),
                sns_topic_arn: Some(self.arn("sns", "db-alerts")),
                source_type: Some(source_type.to_string()),
                source_ids: Vec::new(),
                event_categories: Vec::new(),
                enabled: true,
                status: Some("active".to_string()),
            });
        }
        snap.rds.certificates = [
            (
                "rds-ca-2019",
                "2019-08-22T17:08:50Z",
                "2024-08-22T17:08:50Z",
            ),
            (
                "rds-ca-ecc384-g1",
                "2021-05-21T22:23:47Z",
                "2121-05-21T23:23:47Z",
            ),
            (
                "rds-ca-rsa2048-g1",
                "2021-05-21T22:15:12Z",
                "2061-05-21T23:15:12Z",
            ),
            (
                "rds-ca-rsa4096-g1",
                "2021-05-21T22:38:38Z",
                "2121-05-21T23:38:38Z",
            ),
        ]
        .iter()
        .map(|(id, from, till)| CaCertificate {
            certificate_identifier: id.to_string(),
            certificate_type: Some("CA".to_string()),
            valid_from: Some(from.to_string()),
            valid_till: Some(till.to_string()),
            customer_override: false,
        })
        .collect();
        snap.rds.engine_versions = ENGINES
            .iter()
            .chain(AURORA)
            .flat_map(|spec| {
                spec.versions
                    .iter()
                    .map(|(version, _, deprecated)| EngineVersion {
                        engine: spec.engine.to_string(),
                        engine_version: version.to_string(),
                        status: Some(
                            if *deprecated {
                                "deprecated"
                            } else {
                                "available"
                            }
                            .to_string(),
                        ),
                    })
            })
            .collect();
        // One multi-region trail from the home region, visible everywhere.
        snap.cloudtrail = CloudTrailData {
            trails: vec![Trail {
                name: "org-management-events".to_string(),
                trail_arn: format!(
                    "arn:aws:cloudtrail:{}:{}:trail/org-management-events",
                    self.home_region, self.account
                ),
                home_region: Some(self.home_region.to_string()),
                is_multi_region_trail: true,
                is_organization_trail: false,
                log_file_validation_enabled: true,
                kms_key_id: None,
                s3_bucket_name: Some(format!("cloudtrail-{}", self.account)),
                cloud_watch_logs_log_group_arn: None,
                include_global_service_events: true,
                is_logging: Some(true),
                management_events: Some(ManagementEvents {
                    write: true,
                    read: true,
                    excluded_event_sources: Vec::new(),
                }),
            }],
        };
        snap.securityhub = SecurityHubData {
            enabled: Some(true),
            hub_arn: Some(self.arn("securityhub", "hub/default")),
            enabled_standards: Some(vec![self.arn(
                "securityhub",
                "subscription/aws-foundational-security-best-practices/v/1.0.0",
            )]),
        };
        snap.backup = BackupData {
            protected_resource_arns: Some(protected),
        };
    }
}

/// Offset of the Aurora engines in the list built by `engine_groups`.
const ENGINE_GROUP_OFFSET_AURORA: usize = {
    let mut total = 0;
    let mut i = 0;
    while i < ENGINES.len() {
        total += ENGINES[i].versions.len();
        i += 1;
    }
    total
};

fn engine_group_index(spec: &EngineSpec, version_index: usize) -> usize {
    let mut index = 0;
    for s in ENGINES {
        if std::ptr::eq(s, spec) {
            return index + version_index;
        }
        index += s.versions.len();
    }
    index
}

fn engine_group_index_aurora(spec: &EngineSpec, version_index: usize) -> usize {
    let mut index = 0;
    for s in AURORA {
        if std::ptr::eq(s, spec) {
            return index + version_index;
        }
        index += s.versions.len();
    }
    index
}

fn pick_engine(rng: &mut Rng) -> &'static EngineSpec {
    let total: usize = ENGINES.iter().map(|e| e.weight).sum();
    let mut roll = rng.below(total);
    for spec in ENGINES {
        if roll < spec.weight {
            return spec;
        }
        roll -= spec.weight;
    }
    &ENGINES[0]
}

fn short_engine(engine: &str) -> &'static str {
    match engine {
        "postgres" => "pg",
        "mysql" => "mysql",
        "mariadb" => "maria",
        "sqlserver-se" => "mssql",
        "oracle-ee" => "ora",
        "db2-se" => "db2",
        "aurora-postgresql" => "apg",
        _ => "amy",
    }
}

fn major_version(engine: &str, version: &str) -> String {
    let mut parts = version.split('.');
    let first = parts.next().unwrap_or(version);
    match (engine, parts.next()) {
        // PostgreSQL and Oracle majors have one component (16, 19); the others two (8.0,
        // 10.6, 15.00, 11.5).
        ("postgres" | "aurora-postgresql" | "oracle-ee", _) | (_, None) => first.to_string(),
        (_, Some(second)) => format!("{first}.{second}"),
    }
}

/// Security parameter values for a group of the engine: TLS enforced or not.
fn tls_values(engine: &str, enforced: bool, rng: &mut Rng) -> BTreeMap<String, Parameter> {
    let on = if enforced { "1" } else { "0" };
    let pairs: Vec<(&str, String)> = match engine {
        "postgres" | "aurora-postgresql" => vec![
            ("rds.force_ssl", on.to_string()),
            (
                "ssl_min_protocol_version",
                if rng.chance(70) { "TLSv1.2" } else { "TLSv1" }.to_string(),
            ),
            ("log_connections", on.to_string()),
            (
                "pgaudit.log",
                if enforced { "ddl,role" } else { "none" }.to_string(),
            ),
        ],
        "mysql" | "mariadb" => vec![
            ("require_secure_transport", on.to_string()),
            (
                "tls_version",
                if enforced {
                    "TLSv1.2,TLSv1.3"
                } else {
                    "TLSv1,TLSv1.1,TLSv1.2"
                }
                .to_string(),
            ),
            ("server_audit_logging", on.to_string()),
            ("local_infile", if enforced { "0" } else { "1" }.to_string()),
        ],
        "aurora-mysql" => vec![
            (
                "require_secure_transport",
                if enforced { "ON" } else { "OFF" }.to_string(),
            ),
            ("server_audit_logging", on.to_string()),
        ],
        "sqlserver-se" => vec![
            ("rds.force_ssl", on.to_string()),
            (
                "rds.tls10",
                if enforced { "disabled" } else { "default" }.to_string(),
            ),
            (
                "rds.tls11",
                if enforced { "disabled" } else { "default" }.to_string(),
            ),
        ],
        "db2-se" => vec![(
            "db2comm",
            if enforced { "TCPIP,SSL" } else { "TCPIP" }.to_string(),
        )],
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .map(|(name, value)| {
            (
                name.to_string(),
                Parameter {
                    value: Some(value),
                    source: Some("user".to_string()),
                    apply_type: None,
                },
            )
        })
        .collect()
}

/// Custom option groups for engines whose encryption lives in options.
fn custom_options(engine: &str) -> Option<Vec<Vec<OptionGroupOption>>> {
    let option = |name: &str, settings: &[(&str, &str)]| OptionGroupOption {
        option_name: name.to_string(),
        port: None,
        vpc_security_group_ids: Vec::new(),
        settings: settings
            .iter()
            .map(|(n, v)| OptionSetting {
                name: n.to_string(),
                value: Some(v.to_string()),
            })
            .collect(),
    };
    match engine {
        "oracle-ee" => Some(vec![
            vec![
                option("TDE", &[]),
                option(
                    "NATIVE_NETWORK_ENCRYPTION",
                    &[("SQLNET.ENCRYPTION_SERVER", "REQUIRED")],
                ),
            ],
            vec![option(
                "NATIVE_NETWORK_ENCRYPTION",
                &[("SQLNET.ENCRYPTION_SERVER", "REQUESTED")],
            )],
        ]),
        "sqlserver-se" => Some(vec![
            vec![option("TRANSPARENT_DATA_ENCRYPTION", &[])],
            vec![option("SQLSERVER_BACKUP_RESTORE", &[])],
        ]),
        _ => None,
    }
}

fn restore_attribute(rng: &mut Rng, encrypted: bool) -> RestoreAttribute {
    // Only unencrypted snapshots can be public.
    let public = !encrypted && rng.chance(10);
    let shared_with = if rng.chance(5) {
        vec![rng.pick(OTHER_ACCOUNTS).to_string()]
    } else {
        Vec::new()
    };
    RestoreAttribute {
        public,
        shared_with,
    }
}

fn membership_sg(id: &str) -> VpcSecurityGroupMembership {
    VpcSecurityGroupMembership {
        vpc_security_group_id: id.to_string(),
        status: "active".to_string(),
    }
}

fn in_sync(name: &str) -> GroupMembership {
    GroupMembership {
        name: name.to_string(),
        status: "in-sync".to_string(),
    }
}

fn public_ip(rng: &mut Rng) -> String {
    let h = rng.next_u64();
    format!(
        "3.{}.{}.{}",
        80 + h % 150,
        (h >> 8) % 254 + 1,
        (h >> 16) % 253 + 2
    )
}

fn small_tags(key: &str, value: &str, environment: &str) -> Tags {
    let mut t = Tags::new();
    t.insert(key.to_string(), value.to_string());
    t.insert("Environment".to_string(), environment.to_string());
    t
}

/// IAM scaled with the estate: a principal per ~10 databases, two policies per principal.
fn iam(rng: &mut Rng, account: &str, db_instances: usize, db_arns: &[String]) -> IamData {
    let principals = (db_instances / 10).max(6);
    let users = principals / 2;
    let roles = principals - users;
    let groups = (principals / 50).max(2);
    let mut data = IamData::default();
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess".to_string();
    data.policies.push(ManagedPolicy {
        arn: admin.clone(),
        name: Some("AdministratorAccess".to_string()),
        path: Some("/".to_string()),
        default_version_id: Some("v1".to_string()),
        document: Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.to_string()),
        attachment_count: Some(1),
    });
    let policy_count = principals * 2;
    for p in 0..policy_count {
        let name = format!("policy-{p:06}");
        let document = policy_document(rng, account, db_arns);
        data.policies.push(ManagedPolicy {
            arn: format!("arn:aws:iam::{account}:policy/{name}"),
            name: Some(name),
            path: Some("/".to_string()),
            default_version_id: Some("v1".to_string()),
            document: Some(document),
            attachment_count: Some(1),
        });
    }
    let policy_arn = |rng: &mut Rng| -> String {
        if rng.chance(1) {
            admin.clone()
        } else {
            format!(
                "arn:aws:iam::{account}:policy/policy-{:06}",
                rng.below(policy_count)
            )
        }
    };
    for g in 0..groups {
        let name = format!("group-{g:04}");
        data.groups.push(IamGroup {
            arn: format!("arn:aws:iam::{account}:group/{name}"),
            name,
            path: Some("/".to_string()),
            inline_policies: Vec::new(),
            attached_policy_arns: vec![policy_arn(rng)],
        });
    }
    for u in 0..users {
        let name = format!("user-{u:06}");
        data.users.push(IamUser {
            arn: format!("arn:aws:iam::{account}:user/{name}"),
            user_id: Some(format!("AIDA{:017X}", mix(u as u64) >> 4)),
            path: Some("/".to_string()),
            groups: vec![format!("group-{:04}", rng.below(groups))],
            attached_policy_arns: vec![policy_arn(rng), policy_arn(rng)],
            permissions_boundary_arn: rng.chance(10).then(|| {
                format!(
                    "arn:aws:iam::{account}:policy/policy-{:06}",
                    rng.below(policy_count)
                )
            }),
            name,
            ..Default::default()
        });
    }
    for r in 0..roles {
        let name = format!("app-role-{r}");
        data.roles.push(IamRole {
            arn: format!("arn:aws:iam::{account}:role/{name}"),
            role_id: Some(format!("AROA{:017X}", mix(r as u64 ^ 0xff) >> 4)),
            path: Some("/".to_string()),
            assume_role_policy_document: Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#.to_string()),
            attached_policy_arns: vec![policy_arn(rng), policy_arn(rng)],
            name,
            ..Default::default()
        });
    }
    data
}

/// A customer managed policy. Like real estates: most grant operations on one database (the
/// instance-specific policies the write-up recommends) or read-only access, a few are broad.
fn policy_document(rng: &mut Rng, account: &str, db_arns: &[String]) -> String {
    let roll = rng.below(100);
    let (actions, resource) = if roll < 3 || db_arns.is_empty() {
        (r#""rds:*""#, "*".to_string())
    } else if roll < 5 {
        (
            r#"["rds:DeleteDBInstance","rds:DeleteDBCluster","rds:ModifyDBSnapshotAttribute"]"#,
            "*".to_string(),
        )
    } else if roll < 30 {
        (
            r#"["rds:Describe*","rds:ListTagsForResource"]"#,
            "*".to_string(),
        )
    } else if roll < 40 {
        (
            r#""rds-db:connect""#,
            format!("arn:aws:rds-db:us-east-1:{account}:dbuser:*/app"),
        )
    } else if roll < 45 {
        (r#"["kms:Decrypt","kms:GenerateDataKey"]"#, "*".to_string())
    } else {
        let actions = *rng.pick(&[
            r#"["rds:ModifyDBInstance","rds:RebootDBInstance"]"#,
            r#"["rds:CreateDBSnapshot","rds:DescribeDBInstances"]"#,
            r#"["rds:ModifyDBInstance","rds:DeleteDBInstance"]"#,
        ]);
        (actions, rng.pick(db_arns).clone())
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{actions},"Resource":"{resource}"}}]}}"#
    )
}

/// What to generate for a synthetic AWS Organization (the org-scale benchmark).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticOrgParams {
    /// Member accounts (the management account is the first of them).
    pub accounts: usize,
    /// DB instances in each account.
    pub db_instances_per_account: usize,
    /// Regions of each account; clamped like [`SyntheticParams::regions`].
    pub regions: usize,
    /// Organizational units under the root; account `i` is in OU `i % ous` (0 = all under the
    /// root).
    pub ous: usize,
    /// Every `n`th account could not be assessed (its role could not be assumed): no regions,
    /// an `sts:AssumeRole` gap. 0 = every account was collected.
    pub unassessed_every: usize,
    pub seed: u64,
    pub collected_at: String,
}

impl Default for SyntheticOrgParams {
    fn default() -> Self {
        SyntheticOrgParams {
            accounts: 100,
            db_instances_per_account: 10,
            regions: 2,
            ous: 8,
            unassessed_every: 50,
            seed: 1,
            collected_at: "2026-11-01T09:00:00Z".to_string(),
        }
    }
}

/// The id of synthetic organization account `i`: 12 digits, distinct, spread over shards.
pub fn synthetic_account_id(i: usize) -> String {
    format!("{:012}", 200_000_000_000u64 + (i as u64) * 7_919)
}

/// Build a synthetic organization: `accounts` synthetic accounts (see [`synthetic`]) with
/// names and paths through a root and `ous` OUs, the AWS managed FullAWSAccess SCP and RCP on
/// the root, and one deny SCP per OU; a few accounts not assessed (AssumeRole denied).
pub fn synthetic_org(params: &SyntheticOrgParams) -> Snapshot {
    use rdsguard_model::{
        Gap, GapKind, OrgPolicy, OrgTarget, OrganizationData, RESOURCE_CONTROL_POLICY,
        SERVICE_CONTROL_POLICY, ops,
    };
    let root = OrgTarget {
        id: "r-synt".to_string(),
        kind: "ROOT".to_string(),
        name: Some("Root".to_string()),
        policy_ids: vec!["p-FullAWSAccess".into(), "p-RCPFullAWSAccess".into()],
    };
    let mut policies = vec![
        OrgPolicy {
            id: "p-FullAWSAccess".into(),
            name: Some("FullAWSAccess".into()),
            policy_type: SERVICE_CONTROL_POLICY.into(),
            aws_managed: true,
            content: Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
                    .into(),
            ),
            ..Default::default()
        },
        OrgPolicy {
            id: "p-RCPFullAWSAccess".into(),
            name: Some("RCPFullAWSAccess".into()),
            policy_type: RESOURCE_CONTROL_POLICY.into(),
            aws_managed: true,
            content: Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#
                    .into(),
            ),
            ..Default::default()
        },
    ];
    let ous: Vec<OrgTarget> = (0..params.ous)
        .map(|i| {
            let policy_id = format!("p-synthou{i:04}");
            policies.push(OrgPolicy {
                id: policy_id.clone(),
                name: Some(format!("deny-rds-delete-ou-{i}")),
                policy_type: SERVICE_CONTROL_POLICY.into(),
                aws_managed: false,
                content: Some(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["rds:DeleteDBInstance","rds:DeleteDBCluster"],"Resource":"*"}]}"#
                        .into(),
                ),
                ..Default::default()
            });
            OrgTarget {
                id: format!("ou-synt-{i:08}"),
                kind: "ORGANIZATIONAL_UNIT".to_string(),
                name: Some(format!("ou-{i}")),
                policy_ids: vec!["p-FullAWSAccess".into(), policy_id],
            }
        })
        .collect();
    let mut regions: Vec<String> = Vec::new();
    let mut accounts = Vec::with_capacity(params.accounts);
    for i in 0..params.accounts {
        let account_id = synthetic_account_id(i);
        let mut path = vec![root.clone()];
        if !ous.is_empty() {
            path.push(ous[i % ous.len()].clone());
        }
        path.push(OrgTarget {
            id: account_id.clone(),
            kind: "ACCOUNT".to_string(),
            name: Some(format!("account-{i}")),
            policy_ids: vec!["p-FullAWSAccess".into(), "p-RCPFullAWSAccess".into()],
        });
        let unassessed = i > 0 && params.unassessed_every > 0 && i % params.unassessed_every == 0;
        let mut account = if unassessed {
            AccountSnapshot {
                account_id: account_id.clone(),
                partition: "aws".to_string(),
                gaps: vec![
                    Gap::new(
                        ops::STS_ASSUME_ROLE,
                        None,
                        GapKind::AccessDenied,
                        format!(
                            "cannot assume arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole: \
                             not authorized to perform sts:AssumeRole"
                        ),
                    )
                    .with_error_code("AccessDenied"),
                ],
                ..Default::default()
            }
        } else {
            let one = synthetic(&SyntheticParams {
                db_instances: params.db_instances_per_account,
                regions: params.regions,
                seed: params.seed ^ mix(i as u64 + 1),
                account_id: account_id.clone(),
                collected_at: params.collected_at.clone(),
            });
            for r in one.source.regions {
                if !regions.contains(&r) {
                    regions.push(r);
                }
            }
            one.accounts.into_iter().next().unwrap_or_default()
        };
        account.name = Some(format!("account-{i}"));
        account.org_path = path;
        accounts.push(account);
    }
    Snapshot {
        schema_version: SCHEMA_VERSION,
        collected_at: params.collected_at.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        source: SnapshotSource {
            kind: "synthetic".to_string(),
            endpoint_url: None,
            regions,
        },
        organization: Some(OrganizationData {
            id: "o-synthetic01".to_string(),
            arn: Some("arn:aws:organizations::200000000000:organization/o-synthetic01".into()),
            management_account_id: Some(synthetic_account_id(0)),
            enabled_policy_types: vec![
                SERVICE_CONTROL_POLICY.to_string(),
                RESOURCE_CONTROL_POLICY.to_string(),
            ],
            policies,
            gaps: Vec::new(),
        }),
        accounts,
    }
}

//! The demo's networks: one VPC per region with public, private and isolated database subnets,
//! their route tables and network ACLs, the security groups of each tier, and the network
//! interfaces (app servers, a bastion, NAT gateways and every RDS-managed interface).

use std::collections::BTreeMap;

use rdsguard_model::{
    Ec2Data, InternetGateway, ManagedPrefixList, NatGateway, NetworkAcl, NetworkInterface,
    PrefixListEntry, RdsData, Route, RouteTable, RouteTableAssociation, SecurityGroup,
    SecurityGroupPermission, Subnet, Vpc, VpcPeeringConnection, VpcPeeringEnd,
};

use super::{
    ACCOUNT, AP, EU, PARTNER_ACCOUNT, US, partner_sg_id, partner_vpc_id, peering_id,
    prefix_list_id, sg_id, subnet_id, vpc_id,
};
use crate::build::{
    PROTO_ALL, PROTO_TCP, PermissionSources, all_traffic, default_nacl_entries, ec2_id, fnv1a,
    nacl_entry, strings, tags, tcp, tcp_range,
};

/// The shape of a region's VPC.
struct VpcPlan {
    region: &'static str,
    name: &'static str,
    /// First two octets of the /16, e.g. `10.0`.
    net: &'static str,
    /// The VPC's IPv6 /56 without the suffix, e.g. `2600:1f18:6a3c:4d00`, when dual-stack.
    ipv6: Option<(&'static str, &'static str)>,
    azs: &'static [&'static str],
    environment: &'static str,
}

const US_PLAN: VpcPlan = VpcPlan {
    region: US,
    name: "acme-prod",
    net: "10.0",
    ipv6: Some(("2600:1f18:6a3c:4d", "00")),
    azs: &["a", "b", "c"],
    environment: "prod",
};

const EU_PLAN: VpcPlan = VpcPlan {
    region: EU,
    name: "acme-eu",
    net: "10.1",
    ipv6: None,
    azs: &["a", "b", "c"],
    environment: "prod",
};

const AP_PLAN: VpcPlan = VpcPlan {
    region: AP,
    name: "acme-au",
    net: "10.2",
    ipv6: None,
    azs: &["a", "b"],
    environment: "prod",
};

/// The VPC name of each region (one VPC per region).
pub(crate) fn vpc_name(region: &str) -> &'static str {
    match region {
        US => US_PLAN.name,
        EU => EU_PLAN.name,
        _ => AP_PLAN.name,
    }
}

/// Everything EC2 networking in `region` except the RDS-managed interfaces.
pub(crate) fn ec2(region: &str) -> Ec2Data {
    match region {
        US => us_east_1(),
        EU => eu_west_1(),
        _ => ap_southeast_2(),
    }
}

/// Subnets, route tables, gateways and the default network ACL of a plan.
fn layout(plan: &VpcPlan) -> Ec2Data {
    let r = plan.region;
    let vpc = vpc_id(r, plan.name);
    let igw = ec2_id("igw", &format!("{r}/{}", plan.name));
    let nat = ec2_id("nat", &format!("{r}/{}", plan.name));
    let cidr = format!("{}.0.0/16", plan.net);
    let ipv6_block = plan.ipv6.map(|(head, tail)| format!("{head}{tail}::/56"));
    let mut ec2 = Ec2Data {
        vpcs: vec![Vpc {
            vpc_id: vpc.clone(),
            owner_id: Some(ACCOUNT.to_string()),
            cidr_blocks: vec![cidr.clone()],
            ipv6_cidr_blocks: ipv6_block.iter().cloned().collect(),
            is_default: false,
            tags: tags(&[("Name", plan.name), ("Environment", plan.environment)]),
        }],
        internet_gateways: vec![InternetGateway {
            id: igw.clone(),
            attached_vpc_ids: vec![vpc.clone()],
        }],
        ..Default::default()
    };

    let mut public = Vec::new();
    let mut private = Vec::new();
    let mut isolated = Vec::new();
    for (i, az) in plan.azs.iter().enumerate() {
        let zone = format!("{r}{az}");
        for (tier, third_octet, list) in [
            ("public", i, &mut public),
            ("private", 10 + i, &mut private),
            ("db", 20 + i, &mut isolated),
        ] {
            let name = format!("{tier}-{az}");
            let id = subnet_id(r, &name);
            let ipv6 = match (tier, plan.ipv6) {
                ("public", Some((head, _))) => vec![format!("{head}{:02x}::/64", i)],
                _ => Vec::new(),
            };
            ec2.subnets.push(Subnet {
                subnet_id: id.clone(),
                vpc_id: vpc.clone(),
                availability_zone: Some(zone.clone()),
                cidr_block: Some(format!("{}.{third_octet}.0/24", plan.net)),
                ipv6_cidr_blocks: ipv6,
                map_public_ip_on_launch: tier == "public",
                tags: tags(&[("Name", &format!("{}-{name}", plan.name)), ("Tier", tier)]),
            });
            list.push(id);
        }
    }

    let local = |ec2_v6: bool| {
        let mut routes = vec![Route {
            destination_cidr_block: Some(cidr.clone()),
            gateway_id: Some("local".to_string()),
            state: Some("active".to_string()),
            ..Default::default()
        }];
        if let (true, Some(block)) = (ec2_v6, &ipv6_block) {
            routes.push(Route {
                destination_ipv6_cidr_block: Some(block.clone()),
                gateway_id: Some("local".to_string()),
                state: Some("active".to_string()),
                ..Default::default()
            });
        }
        routes
    };

    // The main table has only local routes: the isolated DB subnets use it implicitly.
    ec2.route_tables.push(RouteTable {
        route_table_id: ec2_id("rtb", &format!("{r}/main")),
        vpc_id: vpc.clone(),
        routes: local(true),
        associations: vec![RouteTableAssociation {
            main: true,
            ..Default::default()
        }],
    });

    let mut public_routes = local(true);
    public_routes.push(Route {
        destination_cidr_block: Some("0.0.0.0/0".to_string()),
        gateway_id: Some(igw.clone()),
        state: Some("active".to_string()),
        ..Default::default()
    });
    if plan.ipv6.is_some() {
        public_routes.push(Route {
            destination_ipv6_cidr_block: Some("::/0".to_string()),
            gateway_id: Some(igw.clone()),
            state: Some("active".to_string()),
            ..Default::default()
        });
    }
    ec2.route_tables.push(RouteTable {
        route_table_id: ec2_id("rtb", &format!("{r}/public")),
        vpc_id: vpc.clone(),
        routes: public_routes,
        associations: associations(&public),
    });

    let mut private_routes = local(true);
    private_routes.push(Route {
        destination_cidr_block: Some("0.0.0.0/0".to_string()),
        nat_gateway_id: Some(nat.clone()),
        state: Some("active".to_string()),
        ..Default::default()
    });
    ec2.route_tables.push(RouteTable {
        route_table_id: ec2_id("rtb", &format!("{r}/private")),
        vpc_id: vpc.clone(),
        routes: private_routes,
        associations: associations(&private),
    });

    ec2.nat_gateways.push(NatGateway {
        nat_gateway_id: nat.clone(),
        vpc_id: Some(vpc.clone()),
        subnet_id: public.first().cloned(),
        connectivity_type: Some("public".to_string()),
        state: Some("available".to_string()),
    });
    ec2.network_interfaces.push(NetworkInterface {
        network_interface_id: ec2_id("eni", &format!("{r}/nat")),
        subnet_id: public.first().cloned(),
        vpc_id: Some(vpc.clone()),
        owner_id: Some(ACCOUNT.to_string()),
        interface_type: Some("nat_gateway".to_string()),
        description: Some(format!("Interface for NAT Gateway {nat}")),
        requester_id: Some("amazon-vpc".to_string()),
        private_ip_addresses: vec![format!("{}.0.5", plan.net)],
        public_ip: Some(public_ip(&nat)),
        ..Default::default()
    });

    let mut default_subnets = public.clone();
    default_subnets.extend(private.iter().cloned());
    default_subnets.extend(isolated.iter().cloned());
    ec2.network_acls.push(NetworkAcl {
        network_acl_id: ec2_id("acl", &format!("{r}/default")),
        vpc_id: vpc.clone(),
        is_default: true,
        entries: default_nacl_entries(plan.ipv6.is_some()),
        subnet_ids: default_subnets,
    });

    ec2.security_groups.push(SecurityGroup {
        group_id: sg_id(r, "default"),
        group_name: "default".to_string(),
        vpc_id: Some(vpc.clone()),
        owner_id: Some(ACCOUNT.to_string()),
        description: Some("default VPC security group".to_string()),
        ingress: vec![all_traffic().group(&sg_id(r, "default"))],
        egress: vec![all_traffic().cidr("0.0.0.0/0")],
        tags: Default::default(),
    });
    ec2
}

fn associations(subnets: &[String]) -> Vec<RouteTableAssociation> {
    subnets
        .iter()
        .map(|s| RouteTableAssociation {
            subnet_id: Some(s.clone()),
            ..Default::default()
        })
        .collect()
}

/// A stable public address in AWS's us-east-1-looking space for a resource.
fn public_ip(seed: &str) -> String {
    let h = fnv1a(seed);
    format!(
        "3.{}.{}.{}",
        80 + (h % 150),
        (h >> 8) % 254 + 1,
        (h >> 16) % 253 + 2
    )
}

/// Move `subnets` from the default ACL to a custom one.
fn custom_nacl(ec2: &mut Ec2Data, region: &str, name: &str, subnets: &[String], acl: NetworkAcl) {
    for existing in &mut ec2.network_acls {
        existing.subnet_ids.retain(|s| !subnets.contains(s));
    }
    ec2.network_acls.push(NetworkAcl {
        network_acl_id: ec2_id("acl", &format!("{region}/{name}")),
        subnet_ids: subnets.to_vec(),
        ..acl
    });
}

fn group(
    region: &str,
    name: &str,
    description: &str,
    ingress: Vec<SecurityGroupPermission>,
    tag_pairs: &[(&str, &str)],
) -> SecurityGroup {
    SecurityGroup {
        group_id: sg_id(region, name),
        group_name: name.to_string(),
        vpc_id: Some(vpc_id(region, vpc_name(region))),
        owner_id: Some(ACCOUNT.to_string()),
        description: Some(description.to_string()),
        ingress,
        egress: vec![all_traffic().cidr("0.0.0.0/0")],
        tags: tags(tag_pairs),
    }
}

/// An EC2-attached interface (app server, bastion).
fn instance_interface(
    region: &str,
    name: &str,
    subnet: &str,
    ip: &str,
    groups: &[&str],
    public: bool,
) -> NetworkInterface {
    NetworkInterface {
        network_interface_id: ec2_id("eni", &format!("{region}/{name}")),
        subnet_id: Some(subnet_id(region, subnet)),
        vpc_id: Some(vpc_id(region, vpc_name(region))),
        owner_id: Some(ACCOUNT.to_string()),
        interface_type: Some("interface".to_string()),
        description: Some(format!("Primary network interface of {name}")),
        requester_id: None,
        private_ip_addresses: vec![ip.to_string()],
        ipv6_addresses: Vec::new(),
        public_ip: public.then(|| public_ip(name)),
        group_ids: groups.iter().map(|g| sg_id(region, g)).collect(),
        attached_instance_id: Some(ec2_id("i", &format!("{region}/{name}"))),
    }
}

fn us_east_1() -> Ec2Data {
    let r = US;
    let mut ec2 = layout(&US_PLAN);
    let vpc = vpc_id(r, US_PLAN.name);
    let pcx = peering_id(r, "partner-analytics");
    let office = prefix_list_id(r, "acme-office-cidrs");

    // IPv6 egress for the private tier goes out through an egress-only gateway.
    let eigw = ec2_id("eigw", &format!("{r}/{}", US_PLAN.name));
    ec2.egress_only_internet_gateways.push(InternetGateway {
        id: eigw.clone(),
        attached_vpc_ids: vec![vpc.clone()],
    });
    // The partner's VPC is reachable from the private tier and the isolated DB subnets.
    for table in &mut ec2.route_tables {
        let name_is = |n: &str| table.route_table_id == ec2_id("rtb", &format!("{r}/{n}"));
        if name_is("private") {
            table.routes.push(Route {
                destination_ipv6_cidr_block: Some("::/0".to_string()),
                egress_only_internet_gateway_id: Some(eigw.clone()),
                state: Some("active".to_string()),
                ..Default::default()
            });
        }
        if name_is("private") || name_is("main") {
            table.routes.push(Route {
                destination_cidr_block: Some("172.31.0.0/16".to_string()),
                vpc_peering_connection_id: Some(pcx.clone()),
                state: Some("active".to_string()),
                ..Default::default()
            });
        }
    }
    ec2.vpc_peering_connections.push(VpcPeeringConnection {
        vpc_peering_connection_id: pcx.clone(),
        status: Some("active".to_string()),
        requester: VpcPeeringEnd {
            vpc_id: Some(vpc.clone()),
            owner_id: Some(ACCOUNT.to_string()),
            region: Some(r.to_string()),
            cidr_blocks: strings(&["10.0.0.0/16"]),
            ipv6_cidr_blocks: Vec::new(),
        },
        accepter: VpcPeeringEnd {
            vpc_id: Some(partner_vpc_id()),
            owner_id: Some(PARTNER_ACCOUNT.to_string()),
            region: Some(r.to_string()),
            cidr_blocks: strings(&["172.31.0.0/16"]),
            ipv6_cidr_blocks: Vec::new(),
        },
    });

    // The isolated DB subnets only accept PostgreSQL from the corporate 10/8 range.
    let db_subnets: Vec<String> = ["db-a", "db-b", "db-c"]
        .iter()
        .map(|s| subnet_id(r, s))
        .collect();
    custom_nacl(
        &mut ec2,
        r,
        "db-postgres-only",
        &db_subnets,
        NetworkAcl {
            network_acl_id: String::new(),
            vpc_id: vpc.clone(),
            is_default: false,
            entries: vec![
                nacl_entry(
                    100,
                    false,
                    "allow",
                    PROTO_TCP,
                    "10.0.0.0/8",
                    Some((5432, 5432)),
                ),
                nacl_entry(32767, false, "deny", PROTO_ALL, "0.0.0.0/0", None),
                nacl_entry(
                    100,
                    true,
                    "allow",
                    PROTO_TCP,
                    "10.0.0.0/8",
                    Some((1024, 65535)),
                ),
                nacl_entry(32767, true, "deny", PROTO_ALL, "0.0.0.0/0", None),
            ],
            subnet_ids: Vec::new(),
        },
    );

    ec2.managed_prefix_lists.push(ManagedPrefixList {
        prefix_list_id: office.clone(),
        prefix_list_name: Some("acme-office-cidrs".to_string()),
        address_family: Some("IPv4".to_string()),
        owner_id: Some(ACCOUNT.to_string()),
        entries: Some(vec![
            PrefixListEntry {
                cidr: "203.0.113.0/24".to_string(),
                description: Some("New York HQ".to_string()),
            },
            PrefixListEntry {
                cidr: "198.51.100.32/27".to_string(),
                description: Some("Dublin office".to_string()),
            },
        ]),
    });

    let app = sg_id(r, "app-tier");
    let bastion = sg_id(r, "bastion");
    ec2.security_groups.extend([
        group(
            r,
            "app-tier",
            "Application servers behind the load balancer",
            vec![tcp(8080).cidr("10.0.0.0/16"), tcp(443).cidr("10.0.0.0/16")],
            &[("Tier", "app")],
        ),
        group(
            r,
            "bastion",
            "SSH bastion, office addresses only",
            vec![tcp(22).prefix_list(&office)],
            &[("Tier", "admin")],
        ),
        group(
            r,
            "db-postgres",
            "PostgreSQL from the app tier and the bastion",
            vec![
                tcp(5432).group(&app).group(&bastion),
                tcp(5432).cidr("10.0.0.0/16"),
            ],
            &[("Tier", "db")],
        ),
        group(
            r,
            "db-mysql-open",
            "legacy catalog MySQL - temporary vendor access",
            vec![tcp(3306).cidr("0.0.0.0/0"), tcp(3306).group(&app)],
            &[("Tier", "db")],
        ),
        group(
            r,
            "legacy-reports-open",
            "reporting database for BI tools",
            vec![tcp(5432).cidr("0.0.0.0/0").cidr6("::/0")],
            &[],
        ),
        group(
            r,
            "db-mssql",
            "SQL Server from the app tier and the offices",
            vec![tcp(1433).group(&app), tcp(1433).prefix_list(&office)],
            &[("Tier", "db")],
        ),
        group(
            r,
            "db-oracle",
            "ERP Oracle from the app tier and the partner ETL workers",
            vec![
                tcp(1521).group(&app),
                tcp(1521).foreign_group(PARTNER_ACCOUNT, &partner_sg_id(), Some(&pcx)),
            ],
            &[("Tier", "db")],
        ),
        group(
            r,
            "db-analytics",
            "analytics cluster: corporate network and partner VPC",
            vec![
                all_traffic().cidr("10.0.0.0/8"),
                tcp(5432).cidr("172.31.0.0/16"),
            ],
            &[("Tier", "db")],
        ),
        group(
            r,
            "rds-proxy",
            "RDS Proxy endpoints for the app tier",
            vec![tcp(5432).group(&app), tcp(3306).group(&app)],
            &[("Tier", "db")],
        ),
    ]);

    ec2.network_interfaces.extend([
        instance_interface(r, "app-1", "private-a", "10.0.10.21", &["app-tier"], false),
        instance_interface(r, "app-2", "private-b", "10.0.11.37", &["app-tier"], false),
        instance_interface(r, "bastion-1", "public-a", "10.0.0.12", &["bastion"], true),
    ]);
    ec2
}

fn eu_west_1() -> Ec2Data {
    let r = EU;
    let mut ec2 = layout(&EU_PLAN);
    let vpc = vpc_id(r, EU_PLAN.name);

    // A legacy batch range inside the VPC that must not reach MySQL-compatible databases:
    // the deny (rule 90) is evaluated before the allow (rule 100).
    let batch = subnet_id(r, "batch-a");
    ec2.subnets.push(Subnet {
        subnet_id: batch.clone(),
        vpc_id: vpc.clone(),
        availability_zone: Some(format!("{r}a")),
        cidr_block: Some("10.1.128.0/20".to_string()),
        ipv6_cidr_blocks: Vec::new(),
        map_public_ip_on_launch: false,
        tags: tags(&[("Name", "acme-eu-batch-a"), ("Tier", "batch")]),
    });
    for table in &mut ec2.route_tables {
        if table.route_table_id == ec2_id("rtb", &format!("{r}/private")) {
            table
                .associations
                .extend(associations(std::slice::from_ref(&batch)));
        }
    }
    for acl in &mut ec2.network_acls {
        acl.subnet_ids.push(batch.clone());
    }
    let db_subnets: Vec<String> = ["db-a", "db-b", "db-c"]
        .iter()
        .map(|s| subnet_id(r, s))
        .collect();
    custom_nacl(
        &mut ec2,
        r,
        "eu-db",
        &db_subnets,
        NetworkAcl {
            network_acl_id: String::new(),
            vpc_id: vpc.clone(),
            is_default: false,
            entries: vec![
                nacl_entry(
                    90,
                    false,
                    "deny",
                    PROTO_TCP,
                    "10.1.128.0/20",
                    Some((3306, 3306)),
                ),
                nacl_entry(
                    100,
                    false,
                    "allow",
                    PROTO_TCP,
                    "10.1.0.0/16",
                    Some((3306, 3306)),
                ),
                nacl_entry(
                    110,
                    false,
                    "allow",
                    PROTO_TCP,
                    "10.1.0.0/16",
                    Some((50000, 50000)),
                ),
                nacl_entry(32767, false, "deny", PROTO_ALL, "0.0.0.0/0", None),
                nacl_entry(
                    100,
                    true,
                    "allow",
                    PROTO_TCP,
                    "10.1.0.0/16",
                    Some((1024, 65535)),
                ),
                nacl_entry(32767, true, "deny", PROTO_ALL, "0.0.0.0/0", None),
            ],
            subnet_ids: Vec::new(),
        },
    );

    let app = sg_id(r, "eu-app");
    ec2.security_groups.extend([
        group(
            r,
            "eu-app",
            "EU application servers",
            vec![tcp(443).cidr("10.1.0.0/16")],
            &[("Tier", "app")],
        ),
        group(
            r,
            "eu-db-mariadb",
            "customer database from the EU app tier",
            vec![tcp(3306).group(&app)],
            &[("Tier", "db")],
        ),
        group(
            r,
            "eu-aurora-mysql",
            "session store",
            vec![tcp(3306).group(&app), tcp(3306).cidr("10.1.0.0/16")],
            &[("Tier", "db")],
        ),
        group(
            r,
            "eu-db2",
            "ledger Db2",
            vec![tcp_range(50000, 50001).group(&app)],
            &[("Tier", "db")],
        ),
    ]);
    ec2.network_interfaces.extend([
        instance_interface(r, "eu-app-1", "private-a", "10.1.10.14", &["eu-app"], false),
        instance_interface(
            r,
            "eu-batch-1",
            "batch-a",
            "10.1.128.40",
            &["eu-app"],
            false,
        ),
    ]);
    ec2
}

fn ap_southeast_2() -> Ec2Data {
    let r = AP;
    let mut ec2 = layout(&AP_PLAN);
    let app = sg_id(r, "au-app");
    ec2.security_groups.extend([
        group(
            r,
            "au-app",
            "inventory sync workers",
            vec![tcp(443).cidr("10.2.0.0/16")],
            &[],
        ),
        group(
            r,
            "au-db",
            "inventory PostgreSQL",
            vec![tcp(5432).group(&app)],
            &[],
        ),
    ]);
    ec2.network_interfaces.push(instance_interface(
        r,
        "au-sync-1",
        "private-a",
        "10.2.10.9",
        &["au-app"],
        false,
    ));
    ec2
}

/// The interfaces RDS creates for each DB instance and proxy: in a subnet of the DB subnet
/// group (in the instance's AZ when it has one), with the instance's security groups, and a
/// public address when the instance is publicly accessible.
pub(crate) fn rds_interfaces(region: &str, rds: &RdsData, ec2: &Ec2Data) -> Vec<NetworkInterface> {
    let mut next_host: BTreeMap<String, u32> = BTreeMap::new();
    let mut allocate = |subnet: &str| -> Option<String> {
        let cidr = ec2
            .subnets
            .iter()
            .find(|s| s.subnet_id == subnet)?
            .cidr_block
            .as_deref()?;
        let base = cidr.split('/').next()?.rsplit_once('.')?.0;
        let host = next_host.entry(subnet.to_string()).or_insert(100);
        *host += 1;
        Some(format!("{base}.{host}"))
    };
    let subnet_in = |group: &str, az: Option<&str>| -> Option<String> {
        let sg = rds.db_subnet_groups.iter().find(|g| g.name == group)?;
        sg.subnet_ids
            .iter()
            .find(|id| {
                ec2.subnets
                    .iter()
                    .any(|s| &s.subnet_id == *id && s.availability_zone.as_deref() == az)
            })
            .or_else(|| sg.subnet_ids.first())
            .cloned()
    };
    let vpc = vpc_id(region, vpc_name(region));
    let mut out = Vec::new();
    for db in &rds.db_instances {
        let Some(group) = db.db_subnet_group_name.as_deref() else {
            continue;
        };
        let Some(subnet) = subnet_in(group, db.availability_zone.as_deref()) else {
            continue;
        };
        let Some(ip) = allocate(&subnet) else {
            continue;
        };
        out.push(NetworkInterface {
            network_interface_id: ec2_id(
                "eni",
                &format!("{region}/rds/{}", db.db_instance_identifier),
            ),
            subnet_id: Some(subnet),
            vpc_id: Some(vpc.clone()),
            owner_id: Some(ACCOUNT.to_string()),
            interface_type: Some("interface".to_string()),
            description: Some("RDSNetworkInterface".to_string()),
            requester_id: Some("amazon-rds".to_string()),
            private_ip_addresses: vec![ip],
            ipv6_addresses: Vec::new(),
            public_ip: db
                .publicly_accessible
                .then(|| public_ip(&db.db_instance_identifier)),
            group_ids: db.security_group_ids().map(str::to_string).collect(),
            attached_instance_id: None,
        });
    }
    for proxy in &rds.db_proxies {
        for subnet in &proxy.vpc_subnet_ids {
            let Some(ip) = allocate(subnet) else {
                continue;
            };
            out.push(NetworkInterface {
                network_interface_id: ec2_id(
                    "eni",
                    &format!("{region}/proxy/{}/{subnet}", proxy.name),
                ),
                subnet_id: Some(subnet.clone()),
                vpc_id: proxy.vpc_id.clone(),
                owner_id: Some(ACCOUNT.to_string()),
                interface_type: Some("interface".to_string()),
                description: Some(format!("Network interface for DBProxy {}", proxy.name)),
                requester_id: Some("amazon-rds".to_string()),
                private_ip_addresses: vec![ip],
                ipv6_addresses: Vec::new(),
                public_ip: None,
                group_ids: proxy.vpc_security_group_ids.clone(),
                attached_instance_id: None,
            });
        }
    }
    out
}

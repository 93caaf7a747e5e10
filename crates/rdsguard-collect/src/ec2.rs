//! EC2 networking: VPCs, subnets, route tables, gateways, network ACLs, security groups with
//! every kind of rule source, managed prefix lists (with entries for customer lists and every
//! list a rule references), network interfaces and VPC peering connections.
//!
//! Per-item gaps (GetManagedPrefixListEntries) name the prefix list id.

use std::collections::BTreeSet;

use aws_sdk_ec2::types as sdk;
use futures::future::join_all;
use rdsguard_model::{
    Ec2Data, InternetGateway, ManagedPrefixList, NatGateway, NetworkAcl, NetworkAclEntry,
    NetworkInterface, PortRange, PrefixListEntry, Route, RouteTable, RouteTableAssociation,
    SecurityGroup, SecurityGroupPermission, SecurityGroupReference, Subnet, Tags, Vpc,
    VpcPeeringConnection, VpcPeeringEnd, ops,
};

use crate::call::{Ctx, Gaps, Scope};
use crate::clients::RegionClients;

/// Page sizes: the maximum each operation accepts.
const PAGE_1000: i32 = 1000;
const PAGE_255: i32 = 255;
const PAGE_100: i32 = 100;

pub(crate) async fn collect(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> Ec2Data {
    let region = rc.region.as_str();
    let ec2 = &rc.ec2;
    let done = |op: rdsguard_model::Op| ctx.progress.op_done(&op.to_string(), Some(region));

    let vpcs = async {
        let op = ops::EC2_DESCRIBE_VPCS;
        let stream = ec2
            .describe_vpcs()
            .max_results(PAGE_1000)
            .into_paginator()
            .send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.vpcs().iter().map(vpc).collect::<Vec<_>>()
            })
            .await;
        done(op);
        v
    };
    let subnets = async {
        let op = ops::EC2_DESCRIBE_SUBNETS;
        let stream = ec2
            .describe_subnets()
            .max_results(PAGE_1000)
            .into_paginator()
            .send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.subnets().iter().map(subnet).collect::<Vec<_>>()
            })
            .await;
        done(op);
        v
    };
    let route_tables = async {
        let op = ops::EC2_DESCRIBE_ROUTE_TABLES;
        let stream = ec2
            .describe_route_tables()
            .max_results(PAGE_100)
            .into_paginator()
            .send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.route_tables().iter().map(route_table).collect::<Vec<_>>()
            })
            .await;
        done(op);
        v
    };
    let internet_gateways = async {
        let op = ops::EC2_DESCRIBE_INTERNET_GATEWAYS;
        let stream = ec2
            .describe_internet_gateways()
            .max_results(PAGE_1000)
            .into_paginator()
            .send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.internet_gateways()
                    .iter()
                    .map(|g| InternetGateway {
                        id: g.internet_gateway_id().unwrap_or_default().to_string(),
                        attached_vpc_ids: attached(g.attachments()),
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        done(op);
        v
    };
    let egress_only_internet_gateways = async {
        let op = ops::EC2_DESCRIBE_EGRESS_ONLY_INTERNET_GATEWAYS;
        let stream = ec2
            .describe_egress_only_internet_gateways()
            .max_results(PAGE_255)
            .into_paginator()
            .send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.egress_only_internet_gateways()
                    .iter()
                    .map(|g| InternetGateway {
                        id: g
                            .egress_only_internet_gateway_id()
                            .unwrap_or_default()
                            .to_string(),
                        attached_vpc_ids: attached(g.attachments()),
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        done(op);
        v
    };
    let nat_gateways = async {
        let op = ops::EC2_DESCRIBE_NAT_GATEWAYS;
        let stream = ec2
            .describe_nat_gateways()
            .max_results(PAGE_1000)
            .into_paginator()
            .send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.nat_gateways()
                    .iter()
                    .map(|g| NatGateway {
                        nat_gateway_id: g.nat_gateway_id().unwrap_or_default().to_string(),
                        vpc_id: g.vpc_id().map(str::to_string),
                        subnet_id: g.subnet_id().map(str::to_string),
                        connectivity_type: g.connectivity_type().map(|t| t.as_str().to_string()),
                        state: g.state().map(|s| s.as_str().to_string()),
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        done(op);
        v
    };
    let network_acls = async {
        let op = ops::EC2_DESCRIBE_NETWORK_ACLS;
        let stream = ec2
            .describe_network_acls()
            .max_results(PAGE_1000)
            .into_paginator()
            .send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.network_acls().iter().map(network_acl).collect::<Vec<_>>()
            })
            .await;
        done(op);
        v
    };
    let network_interfaces = async {
        let op = ops::EC2_DESCRIBE_NETWORK_INTERFACES;
        let stream = ec2
            .describe_network_interfaces()
            .max_results(PAGE_1000)
            .into_paginator()
            .send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.network_interfaces()
                    .iter()
                    .map(network_interface)
                    .collect::<Vec<_>>()
            })
            .await;
        done(op);
        v
    };
    let vpc_peering_connections = async {
        let op = ops::EC2_DESCRIBE_VPC_PEERING_CONNECTIONS;
        let stream = ec2
            .describe_vpc_peering_connections()
            .max_results(PAGE_1000)
            .into_paginator()
            .send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.vpc_peering_connections()
                    .iter()
                    .map(peering)
                    .collect::<Vec<_>>()
            })
            .await;
        done(op);
        v
    };

    let (
        (security_groups, managed_prefix_lists),
        vpcs,
        subnets,
        route_tables,
        internet_gateways,
        egress_only_internet_gateways,
        nat_gateways,
        network_acls,
        network_interfaces,
        vpc_peering_connections,
    ) = futures::join!(
        security_groups_and_prefix_lists(ctx, rc, gaps),
        vpcs,
        subnets,
        route_tables,
        internet_gateways,
        egress_only_internet_gateways,
        nat_gateways,
        network_acls,
        network_interfaces,
        vpc_peering_connections,
    );
    Ec2Data {
        vpcs,
        subnets,
        route_tables,
        internet_gateways,
        egress_only_internet_gateways,
        nat_gateways,
        network_acls,
        security_groups,
        managed_prefix_lists,
        network_interfaces,
        vpc_peering_connections,
    }
}

fn tags(list: &[sdk::Tag]) -> Tags {
    list.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// VPCs a gateway is attached to (attachment state `available` for internet gateways,
/// `attached` for egress-only ones); detaching or detached attachments do not route.
fn attached(list: &[sdk::InternetGatewayAttachment]) -> Vec<String> {
    list.iter()
        .filter(|a| {
            a.state().is_none_or(|s| {
                matches!(
                    s,
                    sdk::AttachmentStatus::Attached | sdk::AttachmentStatus::Attaching
                ) || s.as_str() == "available"
            })
        })
        .filter_map(|a| a.vpc_id().map(str::to_string))
        .collect()
}

fn vpc(v: &sdk::Vpc) -> Vpc {
    let mut cidr_blocks: Vec<String> = v
        .cidr_block_association_set()
        .iter()
        .filter(|a| {
            a.cidr_block_state()
                .and_then(|s| s.state())
                .is_none_or(|s| s.as_str() == "associated")
        })
        .filter_map(|a| a.cidr_block().map(str::to_string))
        .collect();
    if let Some(primary) = v.cidr_block()
        && !cidr_blocks.iter().any(|c| c == primary)
    {
        cidr_blocks.insert(0, primary.to_string());
    }
    Vpc {
        vpc_id: v.vpc_id().unwrap_or_default().to_string(),
        owner_id: v.owner_id().map(str::to_string),
        cidr_blocks,
        ipv6_cidr_blocks: v
            .ipv6_cidr_block_association_set()
            .iter()
            .filter(|a| {
                a.ipv6_cidr_block_state()
                    .and_then(|s| s.state())
                    .is_none_or(|s| s.as_str() == "associated")
            })
            .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
            .collect(),
        is_default: v.is_default().unwrap_or(false),
        tags: tags(v.tags()),
    }
}

fn subnet(s: &sdk::Subnet) -> Subnet {
    Subnet {
        subnet_id: s.subnet_id().unwrap_or_default().to_string(),
        vpc_id: s.vpc_id().unwrap_or_default().to_string(),
        availability_zone: s.availability_zone().map(str::to_string),
        cidr_block: s.cidr_block().map(str::to_string),
        ipv6_cidr_blocks: s
            .ipv6_cidr_block_association_set()
            .iter()
            .filter(|a| {
                a.ipv6_cidr_block_state()
                    .and_then(|s| s.state())
                    .is_none_or(|s| s.as_str() == "associated")
            })
            .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
            .collect(),
        map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
        tags: tags(s.tags()),
    }
}

fn route_table(t: &sdk::RouteTable) -> RouteTable {
    RouteTable {
        route_table_id: t.route_table_id().unwrap_or_default().to_string(),
        vpc_id: t.vpc_id().unwrap_or_default().to_string(),
        routes: t
            .routes()
            .iter()
            .map(|r| Route {
                destination_cidr_block: r.destination_cidr_block().map(str::to_string),
                destination_ipv6_cidr_block: r.destination_ipv6_cidr_block().map(str::to_string),
                destination_prefix_list_id: r.destination_prefix_list_id().map(str::to_string),
                gateway_id: r.gateway_id().map(str::to_string),
                egress_only_internet_gateway_id: r
                    .egress_only_internet_gateway_id()
                    .map(str::to_string),
                nat_gateway_id: r.nat_gateway_id().map(str::to_string),
                transit_gateway_id: r.transit_gateway_id().map(str::to_string),
                vpc_peering_connection_id: r.vpc_peering_connection_id().map(str::to_string),
                network_interface_id: r.network_interface_id().map(str::to_string),
                instance_id: r.instance_id().map(str::to_string),
                state: r.state().map(|s| s.as_str().to_string()),
            })
            .collect(),
        associations: t
            .associations()
            .iter()
            .map(|a| RouteTableAssociation {
                subnet_id: a.subnet_id().map(str::to_string),
                gateway_id: a.gateway_id().map(str::to_string),
                main: a.main().unwrap_or(false),
            })
            .collect(),
    }
}

fn network_acl(a: &sdk::NetworkAcl) -> NetworkAcl {
    NetworkAcl {
        network_acl_id: a.network_acl_id().unwrap_or_default().to_string(),
        vpc_id: a.vpc_id().unwrap_or_default().to_string(),
        is_default: a.is_default().unwrap_or(false),
        entries: a
            .entries()
            .iter()
            .map(|e| NetworkAclEntry {
                rule_number: e.rule_number().unwrap_or_default(),
                protocol: e.protocol().unwrap_or_default().to_string(),
                rule_action: e
                    .rule_action()
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default(),
                egress: e.egress().unwrap_or(false),
                cidr_block: e.cidr_block().map(str::to_string),
                ipv6_cidr_block: e.ipv6_cidr_block().map(str::to_string),
                port_range: e.port_range().map(|r| PortRange {
                    from: r.from().unwrap_or_default(),
                    to: r.to().unwrap_or_default(),
                }),
            })
            .collect(),
        subnet_ids: a
            .associations()
            .iter()
            .filter_map(|s| s.subnet_id().map(str::to_string))
            .collect(),
    }
}

fn permission(p: &sdk::IpPermission) -> SecurityGroupPermission {
    SecurityGroupPermission {
        ip_protocol: p.ip_protocol().unwrap_or("-1").to_string(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ipv4_ranges: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_string))
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6().map(str::to_string))
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .filter_map(|r| r.prefix_list_id().map(str::to_string))
            .collect(),
        security_groups: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| {
                Some(SecurityGroupReference {
                    group_id: g.group_id()?.to_string(),
                    user_id: g.user_id().map(str::to_string),
                    vpc_id: g.vpc_id().map(str::to_string),
                    vpc_peering_connection_id: g.vpc_peering_connection_id().map(str::to_string),
                    peering_status: g.peering_status().map(str::to_string),
                    description: g.description().map(str::to_string),
                })
            })
            .collect(),
    }
}

fn security_group(g: &sdk::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        group_id: g.group_id().unwrap_or_default().to_string(),
        group_name: g.group_name().unwrap_or_default().to_string(),
        vpc_id: g.vpc_id().map(str::to_string),
        owner_id: g.owner_id().map(str::to_string),
        description: g.description().map(str::to_string),
        ingress: g.ip_permissions().iter().map(permission).collect(),
        egress: g.ip_permissions_egress().iter().map(permission).collect(),
        tags: tags(g.tags()),
    }
}

fn network_interface(n: &sdk::NetworkInterface) -> NetworkInterface {
    NetworkInterface {
        network_interface_id: n.network_interface_id().unwrap_or_default().to_string(),
        subnet_id: n.subnet_id().map(str::to_string),
        vpc_id: n.vpc_id().map(str::to_string),
        owner_id: n.owner_id().map(str::to_string),
        interface_type: n.interface_type().map(|t| t.as_str().to_string()),
        description: n.description().map(str::to_string),
        requester_id: n.requester_id().map(str::to_string),
        private_ip_addresses: n
            .private_ip_addresses()
            .iter()
            .filter_map(|a| a.private_ip_address().map(str::to_string))
            .collect(),
        ipv6_addresses: n
            .ipv6_addresses()
            .iter()
            .filter_map(|a| a.ipv6_address().map(str::to_string))
            .collect(),
        public_ip: n
            .association()
            .and_then(|a| a.public_ip())
            .map(str::to_string),
        group_ids: n
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        attached_instance_id: n
            .attachment()
            .and_then(|a| a.instance_id())
            .map(str::to_string),
    }
}

fn peering_end(v: Option<&sdk::VpcPeeringConnectionVpcInfo>) -> VpcPeeringEnd {
    let Some(v) = v else {
        return VpcPeeringEnd::default();
    };
    let mut cidr_blocks: Vec<String> = v
        .cidr_block_set()
        .iter()
        .filter_map(|c| c.cidr_block().map(str::to_string))
        .collect();
    if let Some(primary) = v.cidr_block()
        && !cidr_blocks.iter().any(|c| c == primary)
    {
        cidr_blocks.insert(0, primary.to_string());
    }
    VpcPeeringEnd {
        vpc_id: v.vpc_id().map(str::to_string),
        owner_id: v.owner_id().map(str::to_string),
        region: v.region().map(str::to_string),
        cidr_blocks,
        ipv6_cidr_blocks: v
            .ipv6_cidr_block_set()
            .iter()
            .filter_map(|c| c.ipv6_cidr_block().map(str::to_string))
            .collect(),
    }
}

fn peering(p: &sdk::VpcPeeringConnection) -> VpcPeeringConnection {
    VpcPeeringConnection {
        vpc_peering_connection_id: p
            .vpc_peering_connection_id()
            .unwrap_or_default()
            .to_string(),
        status: p
            .status()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string()),
        requester: peering_end(p.requester_vpc_info()),
        accepter: peering_end(p.accepter_vpc_info()),
    }
}

/// Security groups and prefix lists together: which lists need their entries depends on the
/// rules. Entries are read for customer-owned lists and for every list a rule references (an
/// AWS-managed list referenced by a rule is part of who can reach the database).
async fn security_groups_and_prefix_lists(
    ctx: &Ctx<'_>,
    rc: &RegionClients,
    gaps: &Gaps,
) -> (Vec<SecurityGroup>, Vec<ManagedPrefixList>) {
    let region = rc.region.as_str();
    let sg_op = ops::EC2_DESCRIBE_SECURITY_GROUPS;
    let pl_op = ops::EC2_DESCRIBE_MANAGED_PREFIX_LISTS;
    let sgs = async {
        let stream = rc
            .ec2
            .describe_security_groups()
            .max_results(PAGE_1000)
            .into_paginator()
            .send();
        let v = ctx
            .list(sg_op, region, gaps, stream, |p| {
                p.security_groups()
                    .iter()
                    .map(security_group)
                    .collect::<Vec<_>>()
            })
            .await;
        ctx.progress.op_done(&sg_op.to_string(), Some(region));
        v
    };
    let lists = async {
        let stream = rc
            .ec2
            .describe_managed_prefix_lists()
            .max_results(PAGE_100)
            .into_paginator()
            .send();
        ctx.list(pl_op, region, gaps, stream, |p| {
            p.prefix_lists()
                .iter()
                .map(|l| ManagedPrefixList {
                    prefix_list_id: l.prefix_list_id().unwrap_or_default().to_string(),
                    prefix_list_name: l.prefix_list_name().map(str::to_string),
                    address_family: l.address_family().map(str::to_string),
                    owner_id: l.owner_id().map(str::to_string),
                    entries: None,
                })
                .collect::<Vec<_>>()
        })
        .await
    };
    let (security_groups, mut lists) = futures::join!(sgs, lists);

    let referenced: BTreeSet<&str> = security_groups
        .iter()
        .flat_map(|g| g.ingress.iter().chain(&g.egress))
        .flat_map(|p| p.prefix_list_ids.iter().map(String::as_str))
        .collect();
    // A referenced list that was not listed (the listing failed, or it is shared in a way the
    // listing does not show) still gets its entries read.
    for id in &referenced {
        if !lists.iter().any(|l| l.prefix_list_id == *id) {
            lists.push(ManagedPrefixList {
                prefix_list_id: id.to_string(),
                ..Default::default()
            });
        }
    }
    let entries_op = ops::EC2_GET_MANAGED_PREFIX_LIST_ENTRIES;
    let entries = join_all(lists.iter().map(|l| {
        let wanted = referenced.contains(l.prefix_list_id.as_str())
            || l.owner_id.as_deref().is_some_and(|o| o != "AWS");
        async move {
            if !wanted {
                return None;
            }
            let pages = ctx
                .pages(
                    entries_op,
                    Scope::item(region, &l.prefix_list_id),
                    rc.ec2
                        .get_managed_prefix_list_entries()
                        .prefix_list_id(&l.prefix_list_id)
                        .max_results(PAGE_100)
                        .into_paginator()
                        .send(),
                )
                .await;
            gaps.ok(pages).map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.entries())
                    .filter_map(|e| {
                        Some(PrefixListEntry {
                            cidr: e.cidr()?.to_string(),
                            description: e.description().map(str::to_string),
                        })
                    })
                    .collect::<Vec<_>>()
            })
        }
    }))
    .await;
    for (l, e) in lists.iter_mut().zip(entries) {
        l.entries = e;
    }
    ctx.progress.op_done(&pl_op.to_string(), Some(region));
    (security_groups, lists)
}

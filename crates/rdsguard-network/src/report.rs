//! The exposure report: what `rdsguard exposure --format json` prints. The field names and
//! meanings are a stable contract, documented in `EXPOSURE_JSON.md`; add fields, never rename
//! or repurpose them (bump [`EXPOSURE_SCHEMA_VERSION`] on an incompatible change).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ipset::{Addr, IpSet, V4Set, V6Set};

/// Version of the exposure JSON schema.
pub const EXPOSURE_SCHEMA_VERSION: u32 = 1;

/// Network ACL rule number EC2 uses for the final `*` rule (deny everything not matched).
/// Reported when traffic falls through every numbered rule.
pub const NACL_DEFAULT_RULE: i32 = 32767;

/// Exposure of every database (instance, cluster, proxy) of a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExposureReport {
    pub schema_version: u32,
    pub databases: Vec<DbExposure>,
}

/// What a database is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DbKind {
    DbInstance,
    DbCluster,
    DbProxy,
}

impl DbKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DbKind::DbInstance => "db-instance",
            DbKind::DbCluster => "db-cluster",
            DbKind::DbProxy => "db-proxy",
        }
    }
}

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }
}

/// One IPv4 block of a source set and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cidr4 {
    pub cidr: String,
    pub addresses: u64,
}

/// One IPv6 block and its size, in decimal (a `/0` holds 2^128 addresses, more than any JSON
/// integer type carries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cidr6 {
    pub cidr: String,
    pub addresses: String,
}

/// Address sets of both families in minimal CIDR form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressSets {
    pub ipv4: Vec<Cidr4>,
    pub ipv6: Vec<Cidr6>,
}

impl AddressSets {
    pub fn is_empty(&self) -> bool {
        self.ipv4.is_empty() && self.ipv6.is_empty()
    }

    pub(crate) fn from_sets(v4: &V4Set, v6: &V6Set) -> Self {
        AddressSets {
            ipv4: cidrs4(v4),
            ipv6: cidrs6(v6),
        }
    }
}

pub(crate) fn cidrs4(s: &V4Set) -> Vec<Cidr4> {
    s.to_prefixes()
        .into_iter()
        .map(|(a, l)| Cidr4 {
            cidr: crate::ipset::format_v4(a, l),
            addresses: 1u64 << (32 - l.min(32)),
        })
        .collect()
}

pub(crate) fn cidrs6(s: &V6Set) -> Vec<Cidr6> {
    s.to_prefixes()
        .into_iter()
        .map(|(a, l)| Cidr6 {
            cidr: crate::ipset::format_v6(a, l),
            addresses: IpSet::<u128>::prefix(a, l).count_decimal(),
        })
        .collect()
}

pub(crate) fn count_u64<A: Addr>(s: &IpSet<A>) -> u64 {
    u64::try_from(s.count()).unwrap_or(u64::MAX)
}

/// The exposure of one database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbExposure {
    /// DB instance or cluster identifier, or proxy name.
    pub identifier: String,
    pub arn: String,
    pub kind: DbKind,
    pub account_id: String,
    pub region: String,
    /// Engine (`postgres`, `aurora-mysql`...); for proxies the engine family in lower case.
    pub engine: String,
    /// The port the database listens on; `None` when RDS did not report it.
    pub port: Option<u16>,
    pub vpc_id: Option<String>,
    /// The PubliclyAccessible flag. Clusters: the Multi-AZ cluster's flag, or true when any
    /// Aurora member has it. `None` when unknown (cluster members missing from the snapshot).
    pub publicly_accessible: Option<bool>,
    /// Clusters: the member instances that have PubliclyAccessible set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_members: Vec<String>,
    /// `true`: some internet address can open a TCP connection to the port (see `path`);
    /// `false`: none can (see `blocked_by`); `None` (JSON `null`): unknown (see
    /// `unknown_reason`). Never `false` because data was missing.
    pub internet_reachable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
    /// The exact internet addresses that get through every link (public flag, route, network
    /// ACL in and out, security groups), per family. With unknown links this is what is known
    /// to get through.
    pub internet_sources: AddressSets,
    /// Allowing paths when reachable: one per subnet and family through which the internet
    /// gets in.
    pub path: Vec<InternetPath>,
    /// The blocking link when not reachable.
    pub blocked_by: Option<Blocked>,
    /// Who the security groups let in on the port, from anywhere.
    pub sources: Sources,
    /// The security groups attached to the database (each shared by the databases it is
    /// attached to).
    pub security_groups: Vec<Arc<AttachedGroup>>,
    /// The subnets the database can be placed in (its DB subnet group or the proxy's subnets).
    /// Shared by the databases of the same subnets (`Arc` serializes as the plain list).
    pub subnets: Arc<Vec<SubnetInfo>>,
    /// Why the subnets are unknown (DB subnet group missing from the snapshot, or no subnet
    /// group at all); `subnets` is then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets_unknown: Option<String>,
    pub egress: Egress,
    /// Other VPCs that can reach the port through VPC peering.
    pub peered_vpcs: Vec<PeeredVpc>,
    /// Why peering reachability could not be fully decided, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peering_unknown: Option<String>,
    pub notes: Vec<String>,
}

/// Who the attached security groups allow to open a TCP connection to the port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sources {
    /// Union of every IPv4 source: CIDR rules, prefix-list entries and the private addresses of
    /// interfaces carrying referenced groups, in minimal CIDR form.
    pub ipv4: Vec<Cidr4>,
    pub ipv6: Vec<Cidr6>,
    pub ipv4_addresses: u64,
    /// Decimal (may exceed 2^64).
    pub ipv6_addresses: String,
    /// Referenced security groups, with the interfaces known to carry them. (Shared between
    /// the databases of a report: `Arc` serializes as the plain object.)
    pub security_groups: Vec<Arc<GroupSource>>,
    pub prefix_lists: Vec<Arc<PrefixListSource>>,
    /// The ingress rules that cover TCP on the port.
    pub rules: Vec<Arc<IngressRule>>,
    /// False when the sets above are a lower bound: an attached group or a prefix list's
    /// entries are unknown, a CIDR could not be parsed, or the port is unknown. `unknown`
    /// says why.
    pub complete: bool,
    /// False when the CIDR sources (rules and prefix lists) are a lower bound. Unknown members
    /// of referenced groups leave this true: they are private interface addresses, never a
    /// whole address family, so "open to 0.0.0.0/0" stays decidable.
    pub cidr_complete: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}

/// An ingress permission of an attached group that covers TCP on the database port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngressRule {
    pub group_id: String,
    /// As EC2 reports it: `tcp`, `6`, `-1`...
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// Every protocol (`-1`).
    pub all_protocols: bool,
    /// Every port 0-65535 (or all protocols).
    pub all_ports: bool,
    pub ipv4_ranges: Vec<String>,
    pub ipv6_ranges: Vec<String>,
    pub prefix_list_ids: Vec<String>,
    pub referenced_groups: Vec<String>,
}

/// A security group referenced as a source, resolved to network interfaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSource {
    pub group_id: String,
    pub group_name: Option<String>,
    pub owner_id: Option<String>,
    pub vpc_id: Option<String>,
    pub peering_connection_id: Option<String>,
    /// Interfaces known to carry the group. Zero interfaces is not "nobody": any interface
    /// given the group later is let in (and `unknown_members` says whether the list can be
    /// trusted to be complete).
    pub interfaces: Vec<InterfaceRef>,
    /// The group's members could not be listed (group in another account, region or peered
    /// VPC not in the snapshot, or the network interfaces were not collected).
    pub unknown_members: bool,
    /// The reference points to a group that no longer exists.
    pub stale: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A network interface carrying a referenced group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceRef {
    pub network_interface_id: String,
    pub private_ip_addresses: Vec<String>,
    pub ipv6_addresses: Vec<String>,
    pub instance_id: Option<String>,
    pub interface_type: Option<String>,
    pub description: Option<String>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
}

/// A managed prefix list used as a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixListSource {
    pub prefix_list_id: String,
    pub name: Option<String>,
    pub address_family: Option<String>,
    /// False when the entries could not be read: the list then counts as "could be anything".
    pub entries_known: bool,
    pub cidrs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A security group attached to the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedGroup {
    pub group_id: String,
    pub group_name: Option<String>,
    pub vpc_id: Option<String>,
    /// The VPC's `default` group.
    pub is_default: bool,
    /// False when the group is not in the snapshot (then `reason` says why).
    pub found: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A route as shown in paths: destination and target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRef {
    /// CIDR or prefix-list id.
    pub destination: String,
    /// Gateway, NAT gateway, peering connection... id, or `local`.
    pub target: String,
}

/// Where a subnet of the database sends internet traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetInfo {
    pub subnet_id: String,
    pub vpc_id: Option<String>,
    pub availability_zone: Option<String>,
    /// The subnet has IPv6 CIDR blocks (so a dual-stack database can have an IPv6 address).
    pub ipv6: bool,
    /// The effective route table: the explicit association, else the VPC's main table.
    pub route_table_id: Option<String>,
    pub main_route_table: bool,
    pub network_acl_id: Option<String>,
    /// Active routes to an internet gateway attached to the VPC (the parts of their
    /// destinations not taken by more specific routes).
    pub internet_gateway_routes: Vec<RouteRef>,
    /// A public subnet: some destination routes to an attached internet gateway. `None` when
    /// unknown (see `unknown_reason`).
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

/// One way in from the internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternetPath {
    pub family: Family,
    pub subnet_id: String,
    pub route_table_id: Option<String>,
    /// The internet-gateway routes used for the return traffic.
    pub routes: Vec<RouteRef>,
    pub internet_gateway_ids: Vec<String>,
    pub network_acl_id: Option<String>,
    /// Inbound rule numbers that allow the traffic (first match).
    pub nacl_inbound_rules: Vec<i32>,
    /// Outbound rule numbers that allow the return traffic to ephemeral ports.
    pub nacl_outbound_rules: Vec<i32>,
    /// Security group rules that let these sources in.
    pub security_group_rules: Vec<SgRuleRef>,
    /// What gets in through this path.
    pub sources: AddressSets,
}

/// One source of one security group rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SgRuleRef {
    pub group_id: String,
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// CIDR or prefix-list id.
    pub source: String,
}

/// A link of the internet path, in the order a packet meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockLink {
    /// PubliclyAccessible is false (or the database is an RDS Proxy): no public address.
    NotPublicFlag,
    /// No subnet routes internet addresses to an attached internet gateway.
    NoIgwRoute,
    /// Inbound network ACL rules deny the port.
    NaclInboundDenies,
    /// The security groups allow no internet source on the port.
    SecurityGroupsClosed,
    /// Outbound network ACL rules deny the return traffic to ephemeral ports.
    NaclOutboundDenies,
}

impl BlockLink {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockLink::NotPublicFlag => "not_public_flag",
            BlockLink::NoIgwRoute => "no_igw_route",
            BlockLink::NaclInboundDenies => "nacl_inbound_denies",
            BlockLink::SecurityGroupsClosed => "security_groups_closed",
            BlockLink::NaclOutboundDenies => "nacl_outbound_denies",
        }
    }
}

/// Why the internet cannot reach the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    /// The link that stops the internet. With several subnets, the one on the subnet where
    /// the internet gets furthest (the last line of defence).
    pub link: BlockLink,
    pub detail: String,
    /// Per subnet and family (empty for `not_public_flag`).
    pub subnets: Vec<SubnetBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetBlock {
    pub subnet_id: String,
    pub family: Family,
    pub link: BlockLink,
    pub detail: String,
    /// Network ACL rule numbers that deny (32767 is the final `*` rule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_numbers: Vec<i32>,
}

/// What the database can send out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Egress {
    /// Destinations the attached groups allow, any protocol and port, minimal CIDR form.
    pub ipv4: Vec<Cidr4>,
    pub ipv6: Vec<Cidr6>,
    /// A rule allows all traffic (`-1`) to some destination.
    pub all_traffic: bool,
    /// Security groups allowed as destinations.
    pub security_groups: Vec<String>,
    pub prefix_list_ids: Vec<String>,
    /// Data can leave for the internet: the groups allow internet destinations and a subnet
    /// routes them to an attached internet gateway (public databases), a NAT gateway, or an
    /// egress-only internet gateway (IPv6). `None` when unknown (see `unknown_reason`).
    pub internet: Option<bool>,
    pub internet_via: Vec<EgressRoute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressRoute {
    pub subnet_id: String,
    pub route_table_id: Option<String>,
    pub family: Family,
    pub destination: String,
    pub target: String,
}

/// A peered VPC whose addresses can reach the port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeredVpc {
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub region: Option<String>,
    pub peering_connection_id: String,
    /// Peer addresses the groups let in and the routes and ACLs carry.
    pub ipv4: Vec<Cidr4>,
    pub ipv6: Vec<Cidr6>,
    /// Groups of the peer VPC referenced by the attached groups.
    pub security_groups: Vec<String>,
}

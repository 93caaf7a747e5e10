//! Lookup tables over one region of one account, built once per analysis so that every
//! database is evaluated with hash lookups instead of scans.

use std::cell::{OnceCell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use crate::Map;

use crate::ipset::{Addr, Cidr};
use rdsguard_model::{
    AccountSnapshot, DbCluster, DbInstance, DbSubnetGroup, InternetGateway, ManagedPrefixList,
    NatGateway, NetworkAcl, NetworkInterface, Op, RegionSnapshot, RouteTable, SecurityGroup,
    SecurityGroupReference, Snapshot, Subnet, Vpc, VpcPeeringConnection, ops,
};

/// Whole-operation gaps that matter to the network analysis, as user-facing reasons.
#[derive(Debug, Default, Clone)]
pub(crate) struct Gaps {
    pub security_groups: Option<String>,
    pub subnets: Option<String>,
    pub route_tables: Option<String>,
    pub internet_gateways: Option<String>,
    pub egress_only_gateways: Option<String>,
    pub nat_gateways: Option<String>,
    pub network_acls: Option<String>,
    pub prefix_lists: Option<String>,
    pub prefix_list_entries: Option<String>,
    pub network_interfaces: Option<String>,
    pub peering: Option<String>,
    pub subnet_groups: Option<String>,
    pub instances: Option<String>,
}

fn gap(region: &RegionSnapshot, op: Op) -> Option<String> {
    region.listing_gap(op).map(|g| g.describe())
}

impl Gaps {
    fn of(region: &RegionSnapshot) -> Gaps {
        Gaps {
            security_groups: gap(region, ops::EC2_DESCRIBE_SECURITY_GROUPS),
            subnets: gap(region, ops::EC2_DESCRIBE_SUBNETS),
            route_tables: gap(region, ops::EC2_DESCRIBE_ROUTE_TABLES),
            internet_gateways: gap(region, ops::EC2_DESCRIBE_INTERNET_GATEWAYS),
            egress_only_gateways: gap(region, ops::EC2_DESCRIBE_EGRESS_ONLY_INTERNET_GATEWAYS),
            nat_gateways: gap(region, ops::EC2_DESCRIBE_NAT_GATEWAYS),
            network_acls: gap(region, ops::EC2_DESCRIBE_NETWORK_ACLS),
            prefix_lists: gap(region, ops::EC2_DESCRIBE_MANAGED_PREFIX_LISTS),
            prefix_list_entries: gap(region, ops::EC2_GET_MANAGED_PREFIX_LIST_ENTRIES),
            network_interfaces: gap(region, ops::EC2_DESCRIBE_NETWORK_INTERFACES),
            peering: gap(region, ops::EC2_DESCRIBE_VPC_PEERING_CONNECTIONS),
            subnet_groups: gap(region, ops::RDS_DESCRIBE_DB_SUBNET_GROUPS),
            instances: gap(region, ops::RDS_DESCRIBE_DB_INSTANCES),
        }
    }
}

/// A security group found in another account of the snapshot (same region name), with the
/// interfaces of that account that carry it.
pub(crate) struct ForeignGroup<'a> {
    pub group: &'a SecurityGroup,
    pub interfaces: Vec<&'a NetworkInterface>,
    /// Gap of the owner's DescribeNetworkInterfaces, if any.
    pub interfaces_gap: Option<String>,
}

/// Where a referenced group was found.
pub(crate) enum GroupLookup<'a> {
    /// In this account and region, or in another account of the snapshot.
    Found {
        group: &'a SecurityGroup,
        interfaces: &'a [&'a NetworkInterface],
        interfaces_gap: Option<&'a str>,
    },
    /// Known not to exist any more.
    Deleted(String),
    /// Not in the snapshot; cannot say who is in it.
    Unknown(String),
}

/// Address ranges of the interfaces carrying a group, parsed once.
#[derive(Debug, Default)]
pub(crate) struct MemberRanges {
    pub v4: Vec<(u32, u32)>,
    pub v6: Vec<(u128, u128)>,
}

pub(crate) struct RegionIndex<'a> {
    pub account: &'a AccountSnapshot,
    pub region: &'a RegionSnapshot,
    pub gaps: Gaps,
    pub security_groups: Map<&'a str, &'a SecurityGroup>,
    pub interfaces_by_group: Map<&'a str, Vec<&'a NetworkInterface>>,
    /// The positions (in the region's list) of the groups with a rule that references a
    /// group not in this region's list, or one marked deleted: the references of every
    /// other group resolve to a group of the region.
    pub unusual_references: Vec<usize>,
    /// This region's groups' member addresses, parsed when a rule first references the group
    /// (most groups are referenced by none; groups of other accounts are parsed on each use).
    /// Keyed by the address of the key of `interfaces_by_group` (a string of the snapshot):
    /// no lifetime in the cell, so the index stays covariant.
    member_ranges: RefCell<Map<usize, Rc<MemberRanges>>>,
    pub subnets: Map<&'a str, &'a Subnet>,
    pub vpcs: Map<&'a str, &'a Vpc>,
    pub route_table_by_subnet: Map<&'a str, &'a RouteTable>,
    pub main_route_table_by_vpc: Map<&'a str, &'a RouteTable>,
    pub nacl_by_subnet: Map<&'a str, &'a NetworkAcl>,
    pub default_nacl_by_vpc: Map<&'a str, &'a NetworkAcl>,
    pub internet_gateways: Map<&'a str, &'a InternetGateway>,
    pub egress_only_gateways: Map<&'a str, &'a InternetGateway>,
    pub nat_gateways: Map<&'a str, &'a NatGateway>,
    pub prefix_lists: Map<&'a str, &'a ManagedPrefixList>,
    pub peerings_by_vpc: Map<&'a str, Vec<&'a VpcPeeringConnection>>,
    pub subnet_groups: Map<&'a str, &'a DbSubnetGroup>,
    /// The instances that name a DB cluster (the members clusters list), by identifier;
    /// every other instance only when a cluster names a member not among them
    /// ([`RegionIndex::instance`]): hashing every identifier of a large region cost more than
    /// the few lookups need.
    member_instances: Map<&'a str, &'a DbInstance>,
    /// Positions by identifier (owned keys: no lifetime in the cell, so the index stays
    /// covariant; built only for an inconsistent snapshot).
    all_instances: OnceCell<Map<Box<str>, usize>>,
    pub clusters: Map<&'a str, &'a DbCluster>,
    pub foreign_groups: Map<&'a str, ForeignGroup<'a>>,
}

const NO_INTERFACES: &[&NetworkInterface] = &[];

impl<'a> RegionIndex<'a> {
    pub fn new(
        snapshot: &'a Snapshot,
        account: &'a AccountSnapshot,
        region: &'a RegionSnapshot,
    ) -> Self {
        let ec2 = &region.ec2;
        // A group id listed twice names its first group (as the checks' lookups have it).
        let mut security_groups: Map<&str, &SecurityGroup> = Map::default();
        security_groups.reserve(ec2.security_groups.len());
        for g in &ec2.security_groups {
            security_groups.entry(g.group_id.as_str()).or_insert(g);
        }
        // Only the groups some rule references are looked up by their members (a large
        // region has a group of its own per database, which no rule names).
        // Neighbouring groups mostly reference the same group (a VPC's application tier):
        // a repeat of the last one is not hashed again. The same scan notes the references
        // that may not resolve to a group of this region (another account's, a missing one, or
        // one marked deleted), so that nothing reads every rule again to find them.
        let mut interfaces_by_group: Map<&str, Vec<&NetworkInterface>> = Map::default();
        let mut not_local: HashSet<&str> = HashSet::new();
        let mut unusual_references = Vec::new();
        let mut last: Option<(&str, bool)> = None;
        for (at, g) in ec2.security_groups.iter().enumerate() {
            let mut unusual = false;
            for r in g
                .ingress
                .iter()
                .chain(&g.egress)
                .flat_map(|perm| &perm.security_groups)
            {
                let id = r.group_id.as_str();
                let local = match last {
                    Some((last_id, local)) if last_id == id => local,
                    _ => {
                        interfaces_by_group.entry(id).or_default();
                        let local = security_groups.contains_key(id);
                        if !local {
                            not_local.insert(id);
                        }
                        last = Some((id, local));
                        local
                    }
                };
                unusual |= !local || r.peering_status.as_deref() == Some("deleted");
            }
            if unusual {
                unusual_references.push(at);
            }
        }
        for eni in &ec2.network_interfaces {
            for g in &eni.group_ids {
                if let Some(members) = interfaces_by_group.get_mut(g.as_str()) {
                    members.push(eni);
                }
            }
        }
        interfaces_by_group.retain(|_, members| !members.is_empty());
        let mut route_table_by_subnet = Map::default();
        let mut main_route_table_by_vpc = Map::default();
        for rt in &ec2.route_tables {
            for assoc in &rt.associations {
                if assoc.main {
                    main_route_table_by_vpc.insert(rt.vpc_id.as_str(), rt);
                }
                if let Some(s) = &assoc.subnet_id {
                    route_table_by_subnet.insert(s.as_str(), rt);
                }
            }
        }
        let mut nacl_by_subnet = Map::default();
        let mut default_nacl_by_vpc = Map::default();
        for acl in &ec2.network_acls {
            if acl.is_default {
                default_nacl_by_vpc.insert(acl.vpc_id.as_str(), acl);
            }
            for s in &acl.subnet_ids {
                nacl_by_subnet.insert(s.as_str(), acl);
            }
        }
        let mut peerings_by_vpc: Map<&str, Vec<&VpcPeeringConnection>> = Map::default();
        for pcx in &ec2.vpc_peering_connections {
            let ends = [&pcx.requester.vpc_id, &pcx.accepter.vpc_id];
            let mut seen = HashSet::new();
            for v in ends.into_iter().flatten() {
                if seen.insert(v.as_str()) {
                    peerings_by_vpc.entry(v.as_str()).or_default().push(pcx);
                }
            }
        }
        let foreign_groups = foreign_groups(snapshot, account, region, &not_local);
        RegionIndex {
            account,
            region,
            gaps: Gaps::of(region),
            security_groups,
            interfaces_by_group,
            unusual_references,
            member_ranges: RefCell::default(),
            subnets: ec2
                .subnets
                .iter()
                .map(|s| (s.subnet_id.as_str(), s))
                .collect(),
            vpcs: ec2.vpcs.iter().map(|v| (v.vpc_id.as_str(), v)).collect(),
            route_table_by_subnet,
            main_route_table_by_vpc,
            nacl_by_subnet,
            default_nacl_by_vpc,
            internet_gateways: ec2
                .internet_gateways
                .iter()
                .map(|g| (g.id.as_str(), g))
                .collect(),
            egress_only_gateways: ec2
                .egress_only_internet_gateways
                .iter()
                .map(|g| (g.id.as_str(), g))
                .collect(),
            nat_gateways: ec2
                .nat_gateways
                .iter()
                .map(|n| (n.nat_gateway_id.as_str(), n))
                .collect(),
            prefix_lists: ec2
                .managed_prefix_lists
                .iter()
                .map(|p| (p.prefix_list_id.as_str(), p))
                .collect(),
            peerings_by_vpc,
            subnet_groups: region
                .rds
                .db_subnet_groups
                .iter()
                .map(|g| (g.name.as_str(), g))
                .collect(),
            member_instances: region
                .rds
                .db_instances
                .iter()
                .filter(|d| d.db_cluster_identifier.is_some())
                .map(|d| (d.db_instance_identifier.as_str(), d))
                .collect(),
            all_instances: OnceCell::new(),
            clusters: region
                .rds
                .db_clusters
                .iter()
                .map(|c| (c.db_cluster_identifier.as_str(), c))
                .collect(),
            foreign_groups,
        }
    }

    /// A DB instance of this region by identifier: the last listed under it that names a
    /// cluster, else the last listed under it.
    pub fn instance(&self, id: &str) -> Option<&'a DbInstance> {
        if let Some(&db) = self.member_instances.get(id) {
            return Some(db);
        }
        let instances = &self.region.rds.db_instances;
        let at = self.all_instances.get_or_init(|| {
            instances
                .iter()
                .enumerate()
                .map(|(i, d)| (Box::from(d.db_instance_identifier.as_str()), i))
                .collect()
        });
        at.get(id).and_then(|&i| instances.get(i))
    }

    /// A security group by id: this account's, or another account's in the snapshot.
    pub fn security_group(&self, id: &str) -> Option<&'a SecurityGroup> {
        self.security_groups
            .get(id)
            .copied()
            .or_else(|| self.foreign_groups.get(id).map(|f| f.group))
    }

    /// Why an attached group is missing from the snapshot.
    pub fn missing_group_reason(&self, id: &str) -> String {
        match &self.gaps.security_groups {
            Some(g) => g.clone(),
            None => format!("security group {id} is not in the snapshot"),
        }
    }

    /// The addresses of the interfaces of this region carrying `group_id` (`None` for a group
    /// no interface of the region carries), parsed once.
    pub(crate) fn member_ranges(&self, group_id: &str) -> Option<Rc<MemberRanges>> {
        let (&key, interfaces) = self.interfaces_by_group.get_key_value(group_id)?;
        let key = key.as_ptr() as usize;
        if let Some(m) = self.member_ranges.borrow().get(&key) {
            return Some(m.clone());
        }
        let mut m = MemberRanges::default();
        for eni in interfaces {
            for a in eni.private_ip_addresses.iter().chain(&eni.ipv6_addresses) {
                match Cidr::parse(a) {
                    Ok(Cidr::V4(a, l)) => m.v4.push(a.block(l)),
                    Ok(Cidr::V6(a, l)) => m.v6.push(a.block(l)),
                    Err(_) => {}
                }
            }
        }
        let m = Rc::new(m);
        self.member_ranges.borrow_mut().insert(key, m.clone());
        Some(m)
    }

    /// Resolve a group referenced by a rule.
    pub fn lookup_reference(&self, r: &SecurityGroupReference) -> GroupLookup<'_> {
        if r.peering_status.as_deref() == Some("deleted") {
            return GroupLookup::Deleted(format!(
                "referenced group {} is marked deleted",
                r.group_id
            ));
        }
        if let Some(g) = self.security_groups.get(r.group_id.as_str()) {
            return GroupLookup::Found {
                group: g,
                interfaces: self
                    .interfaces_by_group
                    .get(r.group_id.as_str())
                    .map_or(NO_INTERFACES, Vec::as_slice),
                interfaces_gap: self.gaps.network_interfaces.as_deref(),
            };
        }
        if let Some(f) = self.foreign_groups.get(r.group_id.as_str()) {
            return GroupLookup::Found {
                group: f.group,
                interfaces: &f.interfaces,
                interfaces_gap: f.interfaces_gap.as_deref(),
            };
        }
        if let Some(g) = &self.gaps.security_groups {
            return GroupLookup::Unknown(g.clone());
        }
        let same_account = r
            .user_id
            .as_deref()
            .is_none_or(|u| u == self.account.account_id);
        let local_vpc = r
            .vpc_id
            .as_deref()
            .is_none_or(|v| self.vpcs.contains_key(v));
        if same_account && local_vpc && r.vpc_peering_connection_id.is_none() {
            // Every group of this account and region was listed and this one is not there.
            return GroupLookup::Deleted(format!(
                "referenced group {} does not exist in account {} {}",
                r.group_id, self.account.account_id, self.region.region
            ));
        }
        let owner = r.user_id.as_deref().unwrap_or("an unknown account");
        let via = r
            .vpc_peering_connection_id
            .as_deref()
            .map(|p| format!(" (peered VPC via {p})"))
            .unwrap_or_default();
        GroupLookup::Unknown(format!(
            "referenced group {} of {owner}{via} is not in the snapshot",
            r.group_id
        ))
    }

    /// The effective route table of a subnet: its explicit association, else the VPC's main.
    pub fn route_table_of(&self, subnet_id: &str, vpc_id: &str) -> Option<(&'a RouteTable, bool)> {
        if let Some(rt) = self.route_table_by_subnet.get(subnet_id) {
            return Some((rt, false));
        }
        self.main_route_table_by_vpc
            .get(vpc_id)
            .map(|rt| (*rt, true))
    }

    /// The network ACL of a subnet: its association, else the VPC's default ACL.
    pub fn nacl_of(&self, subnet_id: &str, vpc_id: &str) -> Option<&'a NetworkAcl> {
        self.nacl_by_subnet
            .get(subnet_id)
            .or_else(|| self.default_nacl_by_vpc.get(vpc_id))
            .copied()
    }
}

/// Groups referenced by this region's rules but owned by other accounts of the snapshot
/// (`wanted`: the referenced ids that name no group of this region).
fn foreign_groups<'a>(
    snapshot: &'a Snapshot,
    account: &'a AccountSnapshot,
    region: &'a RegionSnapshot,
    wanted: &HashSet<&'a str>,
) -> Map<&'a str, ForeignGroup<'a>> {
    let mut found: Map<&'a str, ForeignGroup<'a>> = Map::default();
    if wanted.is_empty() {
        return found;
    }
    for other in &snapshot.accounts {
        if other.account_id == account.account_id {
            continue;
        }
        let Some(other_region) = other.region(&region.region) else {
            continue;
        };
        let interfaces_gap = gap(other_region, ops::EC2_DESCRIBE_NETWORK_INTERFACES);
        let mut here = Vec::new();
        for g in &other_region.ec2.security_groups {
            if wanted.contains(g.group_id.as_str()) && !found.contains_key(g.group_id.as_str()) {
                here.push(g.group_id.as_str());
                found.insert(
                    g.group_id.as_str(),
                    ForeignGroup {
                        group: g,
                        interfaces: Vec::new(),
                        interfaces_gap: interfaces_gap.clone(),
                    },
                );
            }
        }
        if here.is_empty() {
            continue;
        }
        for eni in &other_region.ec2.network_interfaces {
            for gid in &eni.group_ids {
                if here.contains(&gid.as_str())
                    && let Some(f) = found.get_mut(gid.as_str())
                {
                    f.interfaces.push(eni);
                }
            }
        }
    }
    found
}

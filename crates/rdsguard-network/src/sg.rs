//! Security groups: the union of the ingress permissions of a database's groups that let TCP
//! in on its port, with every source resolved to addresses (CIDRs, managed prefix-list
//! entries, the private addresses of interfaces carrying a referenced group), and the union
//! of their egress permissions.
//!
//! Each group is evaluated once per port ([`GroupEval`], cached by the analysis); a
//! database's [`SgEval`] merges the evaluations of its groups.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;

use rdsguard_model::{
    NetworkInterface, SecurityGroup, SecurityGroupPermission, SecurityGroupReference, ops,
};

use crate::Map;
use crate::family::Fam;
use crate::index::{GroupLookup, RegionIndex};
use crate::ipset::{Addr, Cidr, IpSet};
use crate::nacl::Proto;
use crate::report::{AttachedGroup, GroupSource, IngressRule, InterfaceRef, PrefixListSource};

/// Whether a permission lets TCP in on `port`: `Some(true)`, `Some(false)`, or `None` when
/// the port is unknown and the rule does not cover every port.
pub(crate) fn covers_tcp(perm: &SecurityGroupPermission, port: Option<u16>) -> Option<bool> {
    match Proto::of(&perm.ip_protocol) {
        Proto::Other => Some(false),
        Proto::All => Some(true),
        Proto::Tcp => match (perm.from_port, perm.to_port) {
            (Some(from), Some(to)) => match port {
                Some(p) => Some(from <= i32::from(p) && i32::from(p) <= to),
                None if from <= 0 && to >= 65535 => Some(true),
                None => None,
            },
            // EC2 always reports ports for TCP; a rule without them is read as every port.
            _ => Some(true),
        },
    }
}

/// A permission for every protocol (`-1`).
pub fn is_all_protocols(perm: &SecurityGroupPermission) -> bool {
    Proto::of(&perm.ip_protocol) == Proto::All
}

/// A permission for every port of TCP or UDP (0-65535), or for every protocol.
pub fn is_all_ports(perm: &SecurityGroupPermission) -> bool {
    if is_all_protocols(perm) {
        return true;
    }
    let p = rdsguard_model::trim(&perm.ip_protocol);
    let tcp_or_udp =
        p == "6" || p == "17" || p.eq_ignore_ascii_case("tcp") || p.eq_ignore_ascii_case("udp");
    tcp_or_udp
        && match (perm.from_port, perm.to_port) {
            (Some(from), Some(to)) => from <= 0 && to >= 65535,
            _ => true,
        }
}

/// A managed prefix list, parsed once per analysis.
#[derive(Debug, Clone)]
pub(crate) struct ParsedPrefixList {
    pub v4: IpSet<u32>,
    pub v6: IpSet<u128>,
    pub source: Arc<PrefixListSource>,
    /// Why the entries are not (all) known.
    pub unknown: Option<String>,
}

pub(crate) fn parse_prefix_list(idx: &RegionIndex<'_>, pl: &str) -> ParsedPrefixList {
    let list = idx.prefix_lists.get(pl);
    let mut r4 = Vec::new();
    let mut r6 = Vec::new();
    let mut cidrs = Vec::new();
    let mut unknown = None;
    match list.map(|l| &l.entries) {
        Some(Some(entries)) => {
            for e in entries {
                match Cidr::parse(&e.cidr) {
                    Ok(Cidr::V4(a, l)) => r4.push(a.block(l)),
                    Ok(Cidr::V6(a, l)) => r6.push(a.block(l)),
                    Err(err) => unknown = Some(format!("prefix list {pl}: {err}")),
                }
                cidrs.push(e.cidr.clone());
            }
        }
        Some(None) => {
            let why = idx
                .region
                .gap(ops::EC2_GET_MANAGED_PREFIX_LIST_ENTRIES, Some(pl))
                .map(|g| g.describe())
                .unwrap_or_else(|| "they were not collected".to_string());
            unknown = Some(format!("entries of prefix list {pl} are unknown: {why}"));
        }
        None => {
            let why = idx
                .gaps
                .prefix_lists
                .clone()
                .unwrap_or_else(|| "it is not in the snapshot".to_string());
            unknown = Some(format!("prefix list {pl} is unknown: {why}"));
        }
    }
    ParsedPrefixList {
        v4: IpSet::from_ranges(r4),
        v6: IpSet::from_ranges(r6),
        source: Arc::new(PrefixListSource {
            prefix_list_id: pl.to_string(),
            name: list.and_then(|l| l.prefix_list_name.clone()),
            address_family: list.and_then(|l| l.address_family.clone()),
            entries_known: list.is_some_and(|l| l.entries.is_some()),
            cidrs,
            reason: unknown.clone(),
        }),
        unknown,
    }
}

/// One family's address sets.
#[derive(Debug, Clone, Default)]
pub(crate) struct SgFamily<A: Addr> {
    /// CIDR sources and known prefix-list entries (what the internet can match).
    pub cidr: IpSet<A>,
    /// Private addresses of interfaces carrying referenced groups.
    pub refs: IpSet<A>,
    /// Egress destinations (CIDRs and known prefix-list entries), any protocol or port.
    pub egress: IpSet<A>,
}

/// One security group for one port. Rules and references stay borrowed from the snapshot;
/// they are turned into report structures once per database.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupEval<'a> {
    /// Shared by every database the group is attached to; `None` when evaluated without
    /// the report's descriptions (the checks' reaches), as are `rules` and `prefix_lists`.
    pub attached: Option<Arc<AttachedGroup>>,
    pub v4: SgFamily<u32>,
    pub v6: SgFamily<u128>,
    /// (group id, permission) of the ingress permissions that cover TCP on the port.
    pub rules: Vec<(&'a str, &'a SecurityGroupPermission)>,
    /// Referenced groups, each once.
    pub groups: Vec<&'a SecurityGroupReference>,
    pub prefix_lists: Vec<&'a str>,
    pub unknown: Vec<String>,
    pub cidr_unknown: Vec<String>,
    pub egress_unknown: Vec<String>,
    pub egress_all_traffic: bool,
    pub egress_groups: Vec<&'a str>,
    pub egress_prefix_lists: Vec<&'a str>,
    /// Whether some text above names the group itself (a source that does not parse): the
    /// evaluation then belongs to that group alone, not to every group with its rules.
    pub names_group: bool,
}

/// The groups of one database, merged.
#[derive(Debug, Clone, Default)]
pub(crate) struct SgEval<'a> {
    pub members: Vec<Rc<GroupEval<'a>>>,
    /// The members' address sets merged; `None` for one member, whose sets are read in place
    /// (a database with a single group copies none of its sets).
    merged: Option<Box<(SgFamily<u32>, SgFamily<u128>)>>,
    /// Why the CIDR sources (what the internet can match) are only a lower bound.
    pub cidr_unknown: Vec<String>,
    pub egress_unknown: Vec<String>,
    pub egress_all_traffic: bool,
}

impl<'a> SgEval<'a> {
    pub fn merge(members: Vec<Rc<GroupEval<'a>>>) -> SgEval<'a> {
        let mut ev = SgEval::default();
        if members.len() != 1 {
            ev.merged = Some(Box::new((
                merge_families(members.iter().map(|m| &m.v4)),
                merge_families(members.iter().map(|m| &m.v6)),
            )));
        }
        for m in &members {
            ev.cidr_unknown.extend(m.cidr_unknown.iter().cloned());
            ev.egress_unknown.extend(m.egress_unknown.iter().cloned());
            ev.egress_all_traffic |= m.egress_all_traffic;
        }
        ev.members = members;
        ev
    }

    /// The IPv4 address sets of all the groups.
    pub fn v4(&self) -> &SgFamily<u32> {
        match (&self.merged, self.members.first()) {
            (Some(m), _) => &m.0,
            (None, Some(only)) => &only.v4,
            (None, None) => {
                static NONE: std::sync::LazyLock<SgFamily<u32>> =
                    std::sync::LazyLock::new(SgFamily::default);
                &NONE
            }
        }
    }

    /// The IPv6 address sets of all the groups.
    pub fn v6(&self) -> &SgFamily<u128> {
        match (&self.merged, self.members.first()) {
            (Some(m), _) => &m.1,
            (None, Some(only)) => &only.v6,
            (None, None) => {
                static NONE: std::sync::LazyLock<SgFamily<u128>> =
                    std::sync::LazyLock::new(SgFamily::default);
                &NONE
            }
        }
    }

    pub fn rules(&self) -> impl Iterator<Item = (&'a str, &'a SecurityGroupPermission)> + '_ {
        self.members.iter().flat_map(|m| m.rules.iter().copied())
    }

    pub fn attached(&self) -> Vec<Arc<AttachedGroup>> {
        self.members
            .iter()
            .filter_map(|m| m.attached.clone())
            .collect()
    }

    /// Referenced groups, each once.
    pub fn groups(&self) -> Vec<&'a SecurityGroupReference> {
        let mut seen = HashSet::new();
        self.members
            .iter()
            .flat_map(|m| m.groups.iter().copied())
            .filter(|g| seen.insert(g.group_id.as_str()))
            .collect()
    }

    pub fn prefix_list_ids(&self) -> Vec<&'a str> {
        let mut seen = HashSet::new();
        self.members
            .iter()
            .flat_map(|m| m.prefix_lists.iter().copied())
            .filter(|p| seen.insert(*p))
            .collect()
    }

    pub fn unknown(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.members
            .iter()
            .flat_map(|m| m.unknown.iter())
            .filter(|u| seen.insert(u.as_str()))
            .cloned()
            .collect()
    }

    pub fn egress_groups(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.members
            .iter()
            .flat_map(|m| m.egress_groups.iter().copied())
            .filter(|g| seen.insert(*g))
            .map(str::to_string)
            .collect()
    }

    pub fn egress_prefix_lists(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.members
            .iter()
            .flat_map(|m| m.egress_prefix_lists.iter().copied())
            .filter(|g| seen.insert(*g))
            .map(str::to_string)
            .collect()
    }
}

fn merge_families<'s, A: Addr + 's>(
    families: impl Iterator<Item = &'s SgFamily<A>> + Clone,
) -> SgFamily<A> {
    SgFamily {
        cidr: IpSet::union_all(families.clone().map(|f| &f.cidr)),
        refs: IpSet::union_all(families.clone().map(|f| &f.refs)),
        egress: IpSet::union_all(families.map(|f| &f.egress)),
    }
}

fn interface_ref(eni: &NetworkInterface) -> InterfaceRef {
    InterfaceRef {
        network_interface_id: eni.network_interface_id.clone(),
        private_ip_addresses: eni.private_ip_addresses.clone(),
        ipv6_addresses: eni.ipv6_addresses.clone(),
        instance_id: eni.attached_instance_id.clone(),
        interface_type: eni.interface_type.clone(),
        description: eni.description.clone(),
        subnet_id: eni.subnet_id.clone(),
        vpc_id: eni.vpc_id.clone(),
    }
}

/// Ranges collected before being merged once (sort + merge beats repeated unions).
#[derive(Default)]
struct Ranges {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl Ranges {
    fn add(&mut self, c: Cidr) {
        match c {
            Cidr::V4(a, l) => self.v4.push(a.block(l)),
            Cidr::V6(a, l) => self.v6.push(a.block(l)),
        }
    }

    fn add_sets(&mut self, v4: &IpSet<u32>, v6: &IpSet<u128>) {
        self.v4.extend_from_slice(v4.ranges());
        self.v6.extend_from_slice(v6.ranges());
    }
}

/// The report form of an ingress permission.
pub(crate) fn ingress_rule(group_id: &str, perm: &SecurityGroupPermission) -> IngressRule {
    IngressRule {
        group_id: group_id.to_string(),
        protocol: perm.ip_protocol.clone(),
        from_port: perm.from_port,
        to_port: perm.to_port,
        all_protocols: is_all_protocols(perm),
        all_ports: is_all_ports(perm),
        ipv4_ranges: perm.ipv4_ranges.clone(),
        ipv6_ranges: perm.ipv6_ranges.clone(),
        prefix_list_ids: perm.prefix_list_ids.clone(),
        referenced_groups: perm
            .security_groups
            .iter()
            .map(|r| r.group_id.clone())
            .collect(),
    }
}

/// The rules [`evaluate_group`] reads without the report's descriptions (the ingress rules,
/// and the egress rules when `egress`) written into `out` as bytes: two groups write the
/// same bytes exactly when those rules are equal, field by field, whatever the groups' ids
/// (every field is written, each string and list with its length first). Groups whose bytes
/// are equal evaluate alike, unless the evaluation names the group
/// ([`GroupEval::names_group`]).
///
/// Bytes rather than a hash and a comparison of the groups: a group's rules are read once,
/// and a group is told apart from the one that founded its class by comparing bytes in one
/// place, not by reading that group's rules again from wherever they are in memory.
pub(crate) fn encode_rules(group: &SecurityGroup, egress: bool, out: &mut Vec<u8>) {
    fn text(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    fn optional(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                text(out, s);
            }
        }
    }
    fn port(out: &mut Vec<u8>, p: Option<i32>) {
        match p {
            None => out.push(0),
            Some(p) => {
                out.push(1);
                out.extend_from_slice(&p.to_le_bytes());
            }
        }
    }
    fn texts(out: &mut Vec<u8>, list: &[String]) {
        out.extend_from_slice(&(list.len() as u64).to_le_bytes());
        for s in list {
            text(out, s);
        }
    }
    let add = |out: &mut Vec<u8>, perms: &[SecurityGroupPermission]| {
        out.extend_from_slice(&(perms.len() as u64).to_le_bytes());
        for perm in perms {
            // Taken apart whole: a field added to the model must be written here too.
            let SecurityGroupPermission {
                ip_protocol,
                from_port,
                to_port,
                ipv4_ranges,
                ipv6_ranges,
                prefix_list_ids,
                security_groups,
            } = perm;
            text(out, ip_protocol);
            port(out, *from_port);
            port(out, *to_port);
            texts(out, ipv4_ranges);
            texts(out, ipv6_ranges);
            texts(out, prefix_list_ids);
            out.extend_from_slice(&(security_groups.len() as u64).to_le_bytes());
            for r in security_groups {
                let SecurityGroupReference {
                    group_id,
                    user_id,
                    vpc_id,
                    vpc_peering_connection_id,
                    peering_status,
                    description,
                } = r;
                text(out, group_id);
                optional(out, user_id.as_deref());
                optional(out, vpc_id.as_deref());
                optional(out, vpc_peering_connection_id.as_deref());
                optional(out, peering_status.as_deref());
                optional(out, description.as_deref());
            }
        }
    };
    add(out, &group.ingress);
    if egress {
        add(out, &group.egress);
    }
}

/// The class of a group not classed (yet).
pub(crate) const NO_CLASS: u32 = u32::MAX;

/// Classes of groups with the same rules: each class's rules as [`encode_rules`] writes them,
/// found by their bytes.
#[derive(Default)]
pub(crate) struct ClassRules {
    /// Every class's bytes, one after another.
    bytes: Vec<u8>,
    /// Where each class's bytes are in `bytes`, by class number.
    spans: Vec<(usize, usize)>,
    /// The first class whose bytes have each hash.
    by_hash: Map<u64, u32>,
    /// The other classes with the hash of one in `by_hash` (different rules, same hash).
    more_by_hash: Map<u64, Vec<u32>>,
    /// Room for a group's bytes, kept between groups.
    pub(crate) scratch: Vec<u8>,
}

impl ClassRules {
    /// The class of the rules written in `self.scratch`, made when new; `None` when there
    /// are more classes than numbers.
    pub(crate) fn class_of_scratch(&mut self) -> Option<u32> {
        let rules = self.scratch.as_slice();
        let hash = std::hash::BuildHasher::hash_one(&foldhash::fast::FixedState::default(), rules);
        let same = |class: &u32| {
            self.spans
                .get(*class as usize)
                .and_then(|&(start, end)| self.bytes.get(start..end))
                == Some(rules)
        };
        let found = match self.by_hash.get(&hash) {
            None => None,
            Some(first) if same(first) => Some(*first),
            Some(_) => self
                .more_by_hash
                .get(&hash)
                .and_then(|more| more.iter().find(|c| same(c)).copied()),
        };
        if found.is_some() {
            return found;
        }
        let next = u32::try_from(self.spans.len())
            .ok()
            .filter(|&c| c != NO_CLASS)?;
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&self.scratch);
        self.spans.push((start, self.bytes.len()));
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(next);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.more_by_hash.entry(hash).or_default().push(next);
            }
        }
        Some(next)
    }
}

/// Evaluate one group for TCP on `port`. `prefix_list` resolves (and caches) prefix lists.
/// With `egress` off, the group's egress rules are left out (empty egress sets): for analyses
/// that do not report egress.
pub(crate) fn evaluate_group<'a>(
    idx: &RegionIndex<'a>,
    gid: &str,
    port: Option<u16>,
    egress: bool,
    // Whether the report's descriptions are wanted (`GroupEval::attached`, `rules`,
    // `prefix_lists`).
    described: bool,
    prefix_list: &mut dyn FnMut(&str) -> Rc<ParsedPrefixList>,
) -> GroupEval<'a> {
    let mut ev = GroupEval::default();
    if port.is_none() {
        let why = "the database port is unknown: only all-port rules are counted".to_string();
        ev.cidr_unknown.push(why.clone());
        ev.unknown.push(why);
    }
    let Some(group) = idx.security_group(gid) else {
        let reason = idx.missing_group_reason(gid);
        ev.names_group = true;
        ev.cidr_unknown.push(reason.clone());
        ev.unknown.push(reason.clone());
        ev.egress_unknown.push(reason.clone());
        ev.attached = described.then(|| {
            Arc::new(AttachedGroup {
                group_id: gid.to_string(),
                group_name: None,
                vpc_id: None,
                is_default: false,
                found: false,
                reason: Some(reason),
            })
        });
        return ev;
    };
    ev.attached = described.then(|| {
        Arc::new(AttachedGroup {
            group_id: group.group_id.clone(),
            group_name: Some(group.group_name.clone()),
            vpc_id: group.vpc_id.clone(),
            is_default: group.is_default(),
            found: true,
            reason: None,
        })
    });
    let mut cidr = Ranges::default();
    let mut refs = Ranges::default();
    for perm in &group.ingress {
        if covers_tcp(perm, port) != Some(true) {
            continue;
        }
        if described {
            ev.rules.push((group.group_id.as_str(), perm));
        }
        for c in perm.ipv4_ranges.iter().chain(&perm.ipv6_ranges) {
            match Cidr::parse(c) {
                Ok(p) => cidr.add(p),
                Err(e) => {
                    let why = format!("{}: {e}", group.group_id);
                    ev.names_group = true;
                    ev.cidr_unknown.push(why.clone());
                    ev.unknown.push(why);
                }
            }
        }
        for pl in &perm.prefix_list_ids {
            let parsed = prefix_list(pl);
            cidr.add_sets(&parsed.v4, &parsed.v6);
            if let Some(u) = &parsed.unknown {
                ev.cidr_unknown.push(u.clone());
                ev.unknown.push(u.clone());
            }
            if described && !ev.prefix_lists.contains(&pl.as_str()) {
                ev.prefix_lists.push(pl);
            }
        }
        for r in &perm.security_groups {
            // Each group once (a group references a few: a list, not a hash set).
            if !ev.groups.iter().any(|g| g.group_id == r.group_id) {
                members(idx, &mut ev, &mut refs, r);
                ev.groups.push(r);
            }
        }
    }
    ev.v4.cidr = IpSet::from_ranges(cidr.v4);
    ev.v6.cidr = IpSet::from_ranges(cidr.v6);
    ev.v4.refs = IpSet::from_ranges(refs.v4);
    ev.v6.refs = IpSet::from_ranges(refs.v6);

    if !egress {
        return ev;
    }
    let mut egress = Ranges::default();
    for perm in &group.egress {
        if is_all_protocols(perm) {
            ev.egress_all_traffic = true;
        }
        for c in perm.ipv4_ranges.iter().chain(&perm.ipv6_ranges) {
            match Cidr::parse(c) {
                Ok(p) => egress.add(p),
                Err(e) => {
                    ev.names_group = true;
                    ev.egress_unknown.push(format!("{}: {e}", group.group_id));
                }
            }
        }
        for pl in &perm.prefix_list_ids {
            if !ev.egress_prefix_lists.contains(&pl.as_str()) {
                ev.egress_prefix_lists.push(pl);
            }
            let parsed = prefix_list(pl);
            egress.add_sets(&parsed.v4, &parsed.v6);
            if let Some(u) = &parsed.unknown {
                ev.egress_unknown.push(u.clone());
            }
        }
        for r in &perm.security_groups {
            if !ev.egress_groups.contains(&r.group_id.as_str()) {
                ev.egress_groups.push(&r.group_id);
            }
        }
    }
    ev.v4.egress = IpSet::from_ranges(egress.v4);
    ev.v6.egress = IpSet::from_ranges(egress.v6);
    ev
}

/// Add the addresses of the interfaces carrying a referenced group, and say when they are
/// not all known.
fn members(
    idx: &RegionIndex<'_>,
    ev: &mut GroupEval<'_>,
    refs: &mut Ranges,
    r: &SecurityGroupReference,
) {
    match idx.lookup_reference(r) {
        GroupLookup::Found {
            interfaces,
            interfaces_gap,
            ..
        } => {
            if let Some(g) = interfaces_gap {
                ev.unknown
                    .push(format!("members of {} are unknown: {g}", r.group_id));
            }
            if let Some(m) = idx.member_ranges(r.group_id.as_str()) {
                refs.v4.extend_from_slice(&m.v4);
                refs.v6.extend_from_slice(&m.v6);
            } else {
                for eni in interfaces {
                    for a in eni.private_ip_addresses.iter().chain(&eni.ipv6_addresses) {
                        if let Ok(c) = Cidr::parse(a) {
                            refs.add(c);
                        }
                    }
                }
            }
        }
        GroupLookup::Deleted(_) => {}
        GroupLookup::Unknown(why) => {
            ev.unknown.push(format!("members of {}: {why}", r.group_id));
        }
    }
}

/// The report form of a referenced group, with its interfaces.
pub(crate) fn group_source(idx: &RegionIndex<'_>, r: &SecurityGroupReference) -> GroupSource {
    let mut source = GroupSource {
        group_id: r.group_id.clone(),
        group_name: None,
        owner_id: r.user_id.clone(),
        vpc_id: r.vpc_id.clone(),
        peering_connection_id: r.vpc_peering_connection_id.clone(),
        interfaces: Vec::new(),
        unknown_members: false,
        stale: false,
        reason: None,
    };
    match idx.lookup_reference(r) {
        GroupLookup::Found {
            group,
            interfaces,
            interfaces_gap,
        } => {
            source.group_name = Some(group.group_name.clone());
            source.owner_id = group.owner_id.clone().or(source.owner_id);
            source.vpc_id = group.vpc_id.clone().or(source.vpc_id);
            if let Some(g) = interfaces_gap {
                source.unknown_members = true;
                source.reason = Some(format!("members unknown: {g}"));
            }
            source.interfaces = interfaces.iter().map(|e| interface_ref(e)).collect();
        }
        GroupLookup::Deleted(why) => {
            source.stale = true;
            source.reason = Some(why);
        }
        GroupLookup::Unknown(why) => {
            source.unknown_members = true;
            source.reason = Some(why);
        }
    }
    source
}

/// The addresses one ingress rule grants, for path attribution: (source label, set).
pub(crate) fn rule_sources<A: Fam>(
    rule: &SecurityGroupPermission,
    prefix_list: &mut dyn FnMut(&str) -> Rc<ParsedPrefixList>,
) -> Vec<(String, IpSet<A>)> {
    let mut out = Vec::new();
    for c in rule.ipv4_ranges.iter().chain(&rule.ipv6_ranges) {
        if let Some(s) = Cidr::parse(c).ok().and_then(A::from_cidr) {
            out.push((c.clone(), s));
        }
    }
    for pl in &rule.prefix_list_ids {
        let parsed = prefix_list(pl);
        let set = A::prefix_list_set(&parsed);
        out.push((pl.clone(), set));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, peer_vpc: &str, egress_cidr: &str) -> SecurityGroup {
        let rule = |v4: Vec<String>, refs: Vec<SecurityGroupReference>| SecurityGroupPermission {
            ip_protocol: "tcp".into(),
            from_port: Some(5432),
            to_port: Some(5432),
            ipv4_ranges: v4,
            security_groups: refs,
            ..Default::default()
        };
        SecurityGroup {
            group_id: id.into(),
            group_name: id.into(),
            ingress: vec![rule(
                vec!["10.0.0.0/16".into()],
                vec![SecurityGroupReference {
                    group_id: "sg-app".into(),
                    vpc_id: Some(peer_vpc.into()),
                    user_id: None,
                    vpc_peering_connection_id: None,
                    peering_status: None,
                    description: None,
                }],
            )],
            egress: vec![rule(vec![egress_cidr.into()], Vec::new())],
            ..Default::default()
        }
    }

    fn encoded(g: &SecurityGroup, egress: bool) -> Vec<u8> {
        let mut out = Vec::new();
        encode_rules(g, egress, &mut out);
        out
    }

    /// Groups share an evaluation only when every field of every rule it reads is the same,
    /// whatever their ids.
    #[test]
    fn groups_are_alike_by_every_field_of_the_rules_read() {
        let a = group("sg-1", "vpc-1", "0.0.0.0/0");
        let same = group("sg-2", "vpc-1", "0.0.0.0/0");
        let other_peer = group("sg-3", "vpc-2", "0.0.0.0/0");
        let other_egress = group("sg-4", "vpc-1", "10.0.0.0/8");
        for egress in [false, true] {
            assert_eq!(encoded(&a, egress), encoded(&same, egress));
            assert_ne!(encoded(&a, egress), encoded(&other_peer, egress));
        }
        // Egress rules count only when egress is evaluated.
        assert_eq!(encoded(&a, false), encoded(&other_egress, false));
        assert_ne!(encoded(&a, true), encoded(&other_egress, true));
    }

    /// Each change of one field, or of where a value is, changes the bytes: the cases a
    /// writing without lengths and presence marks would confuse.
    #[test]
    fn a_change_anywhere_in_the_rules_changes_the_bytes() {
        let reference = |user: Option<&str>, vpc: Option<&str>| SecurityGroupReference {
            group_id: "sg-app".into(),
            user_id: user.map(String::from),
            vpc_id: vpc.map(String::from),
            vpc_peering_connection_id: None,
            peering_status: None,
            description: None,
        };
        let base = SecurityGroupPermission {
            ip_protocol: "tcp".into(),
            from_port: Some(5432),
            to_port: Some(5432),
            ipv4_ranges: vec!["ab".into(), String::new()],
            ipv6_ranges: Vec::new(),
            prefix_list_ids: Vec::new(),
            security_groups: vec![reference(None, Some(""))],
        };
        type Edit<'r> = Box<dyn Fn(&mut Vec<SecurityGroupPermission>) + 'r>;
        let edits: Vec<(&str, Edit<'_>)> = vec![
            (
                "absent and empty swapped",
                Box::new(|p| p[0].security_groups[0] = reference(Some(""), None)),
            ),
            (
                "a value split in two",
                Box::new(|p| p[0].ipv4_ranges = vec!["a".into(), "b".into(), String::new()]),
            ),
            (
                "a letter moved to the next value",
                Box::new(|p| p[0].ipv4_ranges = vec!["a".into(), "b".into()]),
            ),
            (
                "a value moved to the next list",
                Box::new(|p| p[0].ipv6_ranges = std::mem::take(&mut p[0].ipv4_ranges)),
            ),
            ("a port absent", Box::new(|p| p[0].from_port = None)),
            (
                "a port moved",
                Box::new(|p| {
                    p[0].from_port = None;
                    p[0].to_port = Some(5432)
                }),
            ),
            (
                "a reference's field moved",
                Box::new(|p| {
                    p[0].security_groups[0].peering_status = p[0].security_groups[0].vpc_id.take()
                }),
            ),
            (
                "a rule added",
                Box::new(|p| p.push(SecurityGroupPermission::default())),
            ),
            (
                "a rule's source moved to a second rule",
                Box::new(|p| {
                    let refs = std::mem::take(&mut p[0].security_groups);
                    p.push(SecurityGroupPermission {
                        security_groups: refs,
                        ..Default::default()
                    });
                }),
            ),
        ];
        let base_bytes = encoded(&with_rules((vec![base.clone()], Vec::new())), false);
        for (what, edit) in edits {
            let mut perms = vec![base.clone()];
            edit(&mut perms);
            assert_ne!(perms, vec![base.clone()], "{what}: not a change");
            let bytes = encoded(&with_rules((perms, Vec::new())), false);
            assert_ne!(bytes, base_bytes, "{what}");
        }
        // With egress: an ingress rule is not the same egress rule.
        assert_ne!(
            encoded(&with_rules((vec![base.clone()], Vec::new())), true),
            encoded(&with_rules((Vec::new(), vec![base])), true),
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]
        /// Equal bytes exactly when the rules are equal: strings and lists that would run
        /// together unmarked (`["ab"]` and `["a", "b"]`, a value moved from one list to the
        /// next, an absent field and an empty one) are told apart.
        #[test]
        fn encodings_are_equal_exactly_when_the_rules_are(
            a in rules(), b in rules(), egress in proptest::bool::ANY,
        ) {
            let (ga, gb) = (with_rules(a), with_rules(b));
            let same = ga.ingress == gb.ingress && (!egress || ga.egress == gb.egress);
            proptest::prop_assert_eq!(encoded(&ga, egress) == encoded(&gb, egress), same);
            // A group is alike itself.
            proptest::prop_assert_eq!(encoded(&ga, egress), encoded(&ga.clone(), egress));
        }
    }

    /// Small alphabets, so that different draws often come out equal or nearly so.
    fn rules() -> impl proptest::strategy::Strategy<
        Value = (Vec<SecurityGroupPermission>, Vec<SecurityGroupPermission>),
    > {
        use proptest::prelude::*;
        // Two letters: draws often differ in one field only, or only in where a value is.
        let text = || prop::sample::select(vec!["", "a", "ab"]).prop_map(String::from);
        let optional = move || prop::option::of(text());
        let reference = (
            text(),
            optional(),
            optional(),
            optional(),
            optional(),
            optional(),
        )
            .prop_map(
                |(
                    group_id,
                    user_id,
                    vpc_id,
                    vpc_peering_connection_id,
                    peering_status,
                    description,
                )| {
                    SecurityGroupReference {
                        group_id,
                        user_id,
                        vpc_id,
                        vpc_peering_connection_id,
                        peering_status,
                        description,
                    }
                },
            );
        let port = || prop::option::of(prop::sample::select(vec![0, 5432]));
        let list = move || prop::collection::vec(text(), 0..3);
        let perm = (
            text(),
            port(),
            port(),
            list(),
            list(),
            list(),
            prop::collection::vec(reference, 0..2),
        )
            .prop_map(
                |(
                    ip_protocol,
                    from_port,
                    to_port,
                    ipv4_ranges,
                    ipv6_ranges,
                    prefix_list_ids,
                    security_groups,
                )| {
                    SecurityGroupPermission {
                        ip_protocol,
                        from_port,
                        to_port,
                        ipv4_ranges,
                        ipv6_ranges,
                        prefix_list_ids,
                        security_groups,
                    }
                },
            );
        let perms = prop::collection::vec(perm, 0..3);
        (perms.clone(), perms)
    }

    fn with_rules(
        (ingress, egress): (Vec<SecurityGroupPermission>, Vec<SecurityGroupPermission>),
    ) -> SecurityGroup {
        SecurityGroup {
            ingress,
            egress,
            ..Default::default()
        }
    }
}

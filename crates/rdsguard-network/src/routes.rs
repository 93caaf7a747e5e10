//! Route tables as exact longest-prefix-match partitions: for every route, the addresses for
//! which it is the most specific match, and where it sends them.

use rdsguard_model::{Route, RouteTable};

use crate::family::Fam;
use crate::index::RegionIndex;
use crate::ipset::{Addr, Cidr, IpSet};

/// Where a route sends packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// An internet gateway. `attached` is whether it is attached to the route table's VPC
    /// (`None`: unknown, internet gateways not collected).
    Igw {
        id: String,
        attached: Option<bool>,
    },
    /// An egress-only internet gateway (IPv6 out only); `attached` as for `Igw`.
    EgressOnlyIgw {
        id: String,
        attached: Option<bool>,
    },
    /// A NAT gateway; `available` is whether it is in state `available` and public
    /// (`None`: unknown).
    Nat {
        id: String,
        available: Option<bool>,
    },
    Peering {
        id: String,
    },
    Local,
    /// Blackhole routes still win longest-prefix match; the packets are dropped.
    Blackhole,
    Other(String),
}

impl Target {
    pub fn label(&self) -> String {
        match self {
            Target::Igw { id, .. }
            | Target::EgressOnlyIgw { id, .. }
            | Target::Nat { id, .. }
            | Target::Peering { id } => id.clone(),
            Target::Local => "local".to_string(),
            Target::Blackhole => "blackhole".to_string(),
            Target::Other(s) => s.clone(),
        }
    }
}

/// One route's share of the address space.
#[derive(Debug, Clone)]
pub(crate) struct RoutePart<A: Addr> {
    pub destination: String,
    pub target: Target,
    /// Addresses for which this route is the longest match.
    pub set: IpSet<A>,
}

/// A route table's partition for one family.
#[derive(Debug, Clone)]
pub(crate) struct RouteFamily<A: Addr> {
    pub parts: Vec<RoutePart<A>>,
    /// Why the partition is not exact (a prefix-list destination whose entries are unknown,
    /// or an unparseable destination); `parts` then ignore that route.
    pub unknown: Option<String>,
    /// The route with unknown destinations goes to an internet gateway (so it may add
    /// internet routes); otherwise it can only take addresses away from them.
    pub unknown_to_igw: bool,
}

impl<A: Fam> RouteFamily<A> {
    /// Addresses sent to an internet gateway attached to the VPC: (known, possible).
    pub fn igw_sets(&self) -> (IpSet<A>, IpSet<A>) {
        let mut lower = IpSet::empty();
        let mut upper = IpSet::empty();
        for p in &self.parts {
            if let Target::Igw { attached, .. } = &p.target {
                if *attached == Some(true) {
                    lower.union_in_place(&p.set);
                }
                if *attached != Some(false) {
                    upper.union_in_place(&p.set);
                }
            }
        }
        if self.unknown.is_some() {
            // Unknown, more specific routes could take any address off the known ones.
            lower = IpSet::empty();
            if self.unknown_to_igw {
                upper = IpSet::full();
            }
        }
        (lower, upper)
    }

    /// Addresses sent to the given peering connection.
    pub fn peering_set(&self, pcx: &str) -> IpSet<A> {
        let mut s = IpSet::empty();
        for p in &self.parts {
            if matches!(&p.target, Target::Peering { id } if id == pcx) {
                s.union_in_place(&p.set);
            }
        }
        s
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RouteEval {
    pub route_table_id: String,
    pub v4: RouteFamily<u32>,
    pub v6: RouteFamily<u128>,
}

/// A route's destinations of one family, as (label, set, from a prefix list).
fn destinations<A: Fam>(
    idx: &RegionIndex<'_>,
    route: &Route,
    unknown: &mut Option<String>,
) -> Vec<(String, IpSet<A>, bool)> {
    let mut out = Vec::new();
    let cidr = if A::BITS == 32 {
        route.destination_cidr_block.as_deref()
    } else {
        route.destination_ipv6_cidr_block.as_deref()
    };
    if let Some(c) = cidr {
        match Cidr::parse(c).ok().and_then(A::from_cidr) {
            Some(set) => out.push((c.to_string(), set, false)),
            None => {
                *unknown = Some(format!("route destination `{c}` cannot be parsed"));
            }
        }
    }
    if let Some(pl) = route.destination_prefix_list_id.as_deref() {
        match idx.prefix_lists.get(pl).and_then(|p| p.entries.as_ref()) {
            Some(entries) => {
                let mut set = IpSet::empty();
                for e in entries {
                    if let Some(s) = Cidr::parse(&e.cidr).ok().and_then(A::from_cidr) {
                        set.union_in_place(&s);
                    }
                }
                // Each entry is its own route for longest-prefix match.
                for (a, l) in set.to_prefixes() {
                    out.push((pl.to_string(), IpSet::prefix(a, l), true));
                }
            }
            None => {
                *unknown = Some(format!(
                    "a route to prefix list {pl} whose entries are unknown{}",
                    idx.gaps
                        .prefix_lists
                        .as_deref()
                        .or(idx.gaps.prefix_list_entries.as_deref())
                        .map(|g| format!(" ({g})"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    out
}

fn egress_only(idx: &RegionIndex<'_>, rt: &RouteTable, id: &str) -> Target {
    let attached = match idx.egress_only_gateways.get(id) {
        Some(g) => Some(g.attached_vpc_ids.contains(&rt.vpc_id)),
        None if idx.gaps.egress_only_gateways.is_some() => None,
        None => Some(false),
    };
    Target::EgressOnlyIgw {
        id: id.to_string(),
        attached,
    }
}

fn classify(idx: &RegionIndex<'_>, rt: &RouteTable, route: &Route) -> Target {
    if route.state.as_deref() == Some("blackhole") {
        return Target::Blackhole;
    }
    if let Some(id) = route.egress_only_internet_gateway_id.as_deref() {
        return egress_only(idx, rt, id);
    }
    if let Some(id) = route.nat_gateway_id.as_deref() {
        let available = match idx.nat_gateways.get(id) {
            Some(n) => Some(
                n.state.as_deref().is_none_or(|s| s == "available")
                    && n.connectivity_type.as_deref() != Some("private"),
            ),
            None if idx.gaps.nat_gateways.is_some() => None,
            None => Some(false),
        };
        return Target::Nat {
            id: id.to_string(),
            available,
        };
    }
    if let Some(id) = route.vpc_peering_connection_id.as_deref() {
        return Target::Peering { id: id.to_string() };
    }
    if let Some(gw) = route.gateway_id.as_deref() {
        if gw == "local" {
            return Target::Local;
        }
        if gw.starts_with("igw-") {
            let attached = match idx.internet_gateways.get(gw) {
                Some(g) => Some(g.attached_vpc_ids.contains(&rt.vpc_id)),
                None if idx.gaps.internet_gateways.is_some() => None,
                None => Some(false),
            };
            return Target::Igw {
                id: gw.to_string(),
                attached,
            };
        }
        if gw.starts_with("eigw-") {
            return egress_only(idx, rt, gw);
        }
        return Target::Other(gw.to_string());
    }
    let other = route
        .transit_gateway_id
        .as_deref()
        .or(route.network_interface_id.as_deref())
        .or(route.instance_id.as_deref())
        .unwrap_or("unknown target");
    Target::Other(other.to_string())
}

fn family<A: Fam>(idx: &RegionIndex<'_>, rt: &RouteTable) -> RouteFamily<A> {
    let mut unknown = None;
    let mut unknown_to_igw = false;
    let mut entries: Vec<(u32, bool, String, IpSet<A>, Target)> = Vec::new();
    for route in &rt.routes {
        let mut route_unknown = None;
        let dests = destinations::<A>(idx, route, &mut route_unknown);
        let target = classify(idx, rt, route);
        if let Some(u) = route_unknown {
            unknown_to_igw |= matches!(target, Target::Igw { .. });
            unknown = Some(u);
        }
        if dests.is_empty() {
            continue;
        }
        for (label, set, from_prefix_list) in dests {
            let len = set
                .to_prefixes()
                .first()
                .map(|(_, l)| *l)
                .unwrap_or(A::BITS);
            entries.push((len, from_prefix_list, label, set, target.clone()));
        }
    }
    // Most specific first; at equal length a CIDR route wins over a prefix-list route.
    entries.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut claimed = IpSet::<A>::empty();
    let mut parts = Vec::new();
    for (_, _, destination, set, target) in entries {
        let share = set.difference(&claimed);
        if share.is_empty() {
            continue;
        }
        claimed.union_in_place(&share);
        parts.push(RoutePart {
            destination,
            target,
            set: share,
        });
    }
    RouteFamily {
        parts,
        unknown,
        unknown_to_igw,
    }
}

pub(crate) fn evaluate(idx: &RegionIndex<'_>, rt: &RouteTable) -> RouteEval {
    RouteEval {
        route_table_id: rt.route_table_id.clone(),
        v4: family::<u32>(idx, rt),
        v6: family::<u128>(idx, rt),
    }
}

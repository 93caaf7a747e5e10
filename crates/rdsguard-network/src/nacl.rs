//! Network ACLs, evaluated exactly: rules in rule-number order, first match wins, and
//! whatever no rule matches is denied by the final `*` rule.
//!
//! Inbound: TCP to the database port. Outbound: the return traffic, TCP from the database port
//! to the client's ephemeral port, which can be anything in 1024-65535 depending on the
//! client. An address gets its replies back when some ephemeral port is allowed
//! (`outbound_any`); `outbound_all` holds the addresses for which every ephemeral port is.

use std::collections::BTreeMap;

use rdsguard_model::{NetworkAcl, NetworkAclEntry};

use crate::family::Fam;
use crate::ipset::{Addr, Cidr, IpSet};
use crate::report::NACL_DEFAULT_RULE;

/// Lowest and highest ephemeral port a client may use (the widest range, NAT devices and
/// Elastic Load Balancing use 1024-65535).
pub const EPHEMERAL_PORTS: (i32, i32) = (1024, 65535);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    All,
    Tcp,
    Other,
}

impl Proto {
    /// NACL protocols are numbers (`6`, `-1`); names are accepted too.
    pub fn of(p: &str) -> Proto {
        let p = rdsguard_model::trim(p);
        if p == "-1" || p.eq_ignore_ascii_case("all") {
            Proto::All
        } else if p == "6" || p.eq_ignore_ascii_case("tcp") {
            Proto::Tcp
        } else {
            Proto::Other
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    rule_number: i32,
    allow: bool,
    proto: Proto,
    /// `None`: every port.
    ports: Option<(i32, i32)>,
    /// The rule's CIDR (a rule has one, of one family).
    cidr: Option<Cidr>,
}

impl Entry {
    fn covers_tcp(&self, lo: i32, hi: i32) -> bool {
        match self.proto {
            Proto::All => true,
            Proto::Tcp => self.ports.is_none_or(|(f, t)| f <= lo && hi <= t),
            Proto::Other => false,
        }
    }
}

/// The rules that matched part of a set, and what each matched.
#[derive(Debug, Clone)]
pub(crate) struct RuleMatch<A: Addr> {
    pub rule_number: i32,
    pub allow: bool,
    pub matched: IpSet<A>,
}

/// One family of one ACL for one port.
#[derive(Debug, Clone)]
pub(crate) struct NaclFamily<A: Addr> {
    /// Sources allowed in to the port.
    pub inbound: IpSet<A>,
    pub inbound_matches: Vec<RuleMatch<A>>,
    /// Why the inbound result is unknown (unparseable rule, unknown port).
    pub inbound_unknown: Option<String>,
    pub outbound_any: IpSet<A>,
    pub outbound_all: IpSet<A>,
    pub outbound_matches: Vec<RuleMatch<A>>,
    pub outbound_unknown: Option<String>,
}

impl<A: Addr> NaclFamily<A> {
    /// (known allowed, possibly allowed) inbound.
    pub fn inbound_bounds(&self) -> (IpSet<A>, IpSet<A>) {
        match self.inbound_unknown {
            Some(_) => (IpSet::empty(), IpSet::full()),
            None => (self.inbound.clone(), self.inbound.clone()),
        }
    }

    pub fn outbound_bounds(&self) -> (IpSet<A>, IpSet<A>) {
        match self.outbound_unknown {
            Some(_) => (IpSet::empty(), IpSet::full()),
            None => (self.outbound_any.clone(), self.outbound_any.clone()),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct NaclEval {
    pub nacl_id: String,
    pub v4: NaclFamily<u32>,
    pub v6: NaclFamily<u128>,
}

/// Rule numbers of `matches` that are `allow` (or deny) and matched part of `within`.
pub(crate) fn rules_touching<A: Addr>(
    matches: &[RuleMatch<A>],
    allow: bool,
    within: &IpSet<A>,
) -> Vec<i32> {
    let mut v: Vec<i32> = matches
        .iter()
        .filter(|m| m.allow == allow && m.matched.intersects(within))
        .map(|m| m.rule_number)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn parse_entries(entries: &[NetworkAclEntry], egress: bool) -> (Vec<Entry>, Option<String>) {
    let mut out = Vec::new();
    let mut bad = None;
    for e in entries.iter().filter(|e| e.egress == egress) {
        let mut cidr = None;
        for c in [&e.cidr_block, &e.ipv6_cidr_block].into_iter().flatten() {
            match Cidr::parse(c) {
                Ok(parsed) => cidr = Some(parsed),
                Err(_) => bad = Some(format!("network ACL rule {} has CIDR `{c}`", e.rule_number)),
            }
        }
        let action = e.rule_action.to_ascii_lowercase();
        if action != "allow" && action != "deny" {
            bad = Some(format!(
                "network ACL rule {} has action `{}`",
                e.rule_number, e.rule_action
            ));
            continue;
        }
        out.push(Entry {
            rule_number: e.rule_number,
            allow: action == "allow",
            proto: Proto::of(&e.protocol),
            ports: e.port_range.as_ref().map(|p| (p.from, p.to)),
            cidr,
        });
    }
    out.sort_by_key(|e| e.rule_number);
    (out, bad)
}

/// First-match evaluation over the whole address space for the rules `applies` selects.
fn first_match<A: Fam>(
    entries: &[Entry],
    applies: impl Fn(&Entry) -> bool,
) -> (IpSet<A>, Vec<RuleMatch<A>>) {
    let mut remaining = IpSet::<A>::full();
    let mut allowed = IpSet::<A>::empty();
    let mut matches = Vec::new();
    for e in entries {
        if remaining.is_empty() {
            break;
        }
        if !applies(e) {
            continue;
        }
        let Some(cidr) = e.cidr.and_then(A::from_cidr) else {
            continue;
        };
        let matched = remaining.intersection(&cidr);
        if matched.is_empty() {
            continue;
        }
        remaining = remaining.difference(&matched);
        if e.allow {
            allowed.union_in_place(&matched);
        }
        matches.push(RuleMatch {
            rule_number: e.rule_number,
            allow: e.allow,
            matched,
        });
    }
    if !remaining.is_empty() {
        matches.push(RuleMatch {
            rule_number: NACL_DEFAULT_RULE,
            allow: false,
            matched: remaining,
        });
    }
    (allowed, matches)
}

/// The return traffic of one family: what no database port changes.
#[derive(Debug, Clone)]
struct Outbound<A: Addr> {
    any: IpSet<A>,
    all: IpSet<A>,
    matches: Vec<RuleMatch<A>>,
}

fn outbound<A: Fam>(outbound: &[Entry]) -> Outbound<A> {
    // Split the ephemeral range at every rule boundary: inside each piece every rule either
    // covers all of it or none of it.
    let (lo, hi) = EPHEMERAL_PORTS;
    let mut cuts = vec![lo, hi + 1];
    for e in outbound {
        if let (Proto::Tcp, Some((f, t))) = (e.proto, e.ports) {
            for c in [f, t.saturating_add(1)] {
                if c > lo && c <= hi {
                    cuts.push(c);
                }
            }
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut any = IpSet::<A>::empty();
    let mut all = IpSet::<A>::full();
    let mut by_rule: BTreeMap<(i32, bool), IpSet<A>> = BTreeMap::new();
    for w in cuts.windows(2) {
        let (piece_lo, piece_hi) = (w[0], w[1] - 1);
        let (allowed, m) = first_match::<A>(outbound, |e| e.covers_tcp(piece_lo, piece_hi));
        any.union_in_place(&allowed);
        all = all.intersection(&allowed);
        for rm in m {
            by_rule
                .entry((rm.rule_number, rm.allow))
                .or_default()
                .union_in_place(&rm.matched);
        }
    }
    Outbound {
        any,
        all,
        matches: by_rule
            .into_iter()
            .map(|((rule_number, allow), matched)| RuleMatch {
                rule_number,
                allow,
                matched,
            })
            .collect(),
    }
}

fn family<A: Fam>(base: &NaclBase, outbound: &Outbound<A>, port: Option<u16>) -> NaclFamily<A> {
    let (inbound_set, inbound_matches, inbound_unknown) = match port {
        Some(p) => {
            let p = i32::from(p);
            let (set, m) = first_match::<A>(&base.inbound, |e| e.covers_tcp(p, p));
            (set, m, base.bad_in.clone())
        }
        None => (
            IpSet::empty(),
            Vec::new(),
            Some("the database port is unknown".to_string()),
        ),
    };
    NaclFamily {
        inbound: inbound_set,
        inbound_matches,
        inbound_unknown,
        outbound_any: outbound.any.clone(),
        outbound_all: outbound.all.clone(),
        outbound_matches: outbound.matches.clone(),
        outbound_unknown: base.bad_out.clone(),
    }
}

/// What an ACL's evaluation shares across database ports: its inbound rules parsed, and its
/// return traffic (which depends on the ephemeral ports only), for [`evaluate_with`].
#[derive(Debug)]
pub(crate) struct NaclBase {
    nacl_id: String,
    inbound: Vec<Entry>,
    bad_in: Option<String>,
    bad_out: Option<String>,
    v4_out: Outbound<u32>,
    v6_out: Outbound<u128>,
}

pub(crate) fn prepare(acl: &NetworkAcl) -> NaclBase {
    let (inbound, bad_in) = parse_entries(&acl.entries, false);
    let (outbound_entries, bad_out) = parse_entries(&acl.entries, true);
    let with_id = |b: Option<String>| b.map(|m| format!("{}: {m}", acl.network_acl_id));
    NaclBase {
        nacl_id: acl.network_acl_id.clone(),
        v4_out: outbound::<u32>(&outbound_entries),
        v6_out: outbound::<u128>(&outbound_entries),
        inbound,
        bad_in: with_id(bad_in),
        bad_out: with_id(bad_out),
    }
}

/// Evaluate a prepared ACL for TCP connections to `port` (and their return traffic).
pub(crate) fn evaluate_with(base: &NaclBase, port: Option<u16>) -> NaclEval {
    NaclEval {
        nacl_id: base.nacl_id.clone(),
        v4: family::<u32>(base, &base.v4_out, port),
        v6: family::<u128>(base, &base.v6_out, port),
    }
}

/// Evaluate an ACL for TCP connections to `port` (and their return traffic).
#[cfg(test)]
pub(crate) fn evaluate(acl: &NetworkAcl, port: Option<u16>) -> NaclEval {
    evaluate_with(&prepare(acl), port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipset::parse_v4;
    use rdsguard_model::PortRange;

    fn entry(
        n: i32,
        allow: bool,
        egress: bool,
        cidr: &str,
        ports: Option<(i32, i32)>,
    ) -> NetworkAclEntry {
        NetworkAclEntry {
            rule_number: n,
            protocol: "6".into(),
            rule_action: if allow { "allow" } else { "deny" }.into(),
            egress,
            cidr_block: Some(cidr.into()),
            ipv6_cidr_block: None,
            port_range: ports.map(|(from, to)| PortRange { from, to }),
        }
    }

    fn acl(entries: Vec<NetworkAclEntry>) -> NetworkAcl {
        NetworkAcl {
            network_acl_id: "acl-1".into(),
            vpc_id: "vpc-1".into(),
            is_default: false,
            entries,
            subnet_ids: vec![],
        }
    }

    #[test]
    fn outbound_split_by_ephemeral_ranges() {
        // Return traffic only to 32768-65535 for everyone: some ports allowed, not all.
        let a = acl(vec![entry(
            100,
            true,
            true,
            "0.0.0.0/0",
            Some((32768, 65535)),
        )]);
        let e = evaluate(&a, Some(5432));
        assert!(e.v4.outbound_any.is_full());
        assert!(e.v4.outbound_all.is_empty());
        assert!(
            e.v4.inbound.is_empty(),
            "no inbound rules: the * rule denies"
        );
        assert_eq!(e.v4.inbound_matches[0].rule_number, NACL_DEFAULT_RULE);
    }

    #[test]
    fn outbound_deny_before_allow_for_part_of_the_range() {
        let a = acl(vec![
            entry(90, false, true, "198.51.100.0/24", None),
            entry(100, true, true, "0.0.0.0/0", Some((1024, 65535))),
        ]);
        let e = evaluate(&a, Some(5432));
        let blocked = parse_v4("198.51.100.0/24").unwrap();
        assert_eq!(e.v4.outbound_any, blocked.complement());
        assert_eq!(e.v4.outbound_all, blocked.complement());
        assert_eq!(
            rules_touching(&e.v4.outbound_matches, false, &blocked),
            vec![90]
        );
    }
}

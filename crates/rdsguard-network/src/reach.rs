//! What the checks decide a database's statuses from: the facts of its exposure
//! ([`DbExposure`]) without the report's text. [`RegionAnalysis::reaches`] computes them
//! directly, with the same evaluation as the report (no identifiers, paths, rules or notes
//! are written); [`DbReach::of`] reads them back from a report. The two agree on every
//! database (tested), so a check decides the same from either.
//!
//! [`RegionAnalysis::reaches`]: crate::RegionAnalysis::reaches

use std::rc::Rc;

use crate::ipset::{self, V4Set, V6Set};
use crate::report::{BlockLink, DbExposure, DbKind, Sources};
use crate::sg::SgEval;

/// The facts of one database's exposure that decide statuses.
#[derive(Debug, Clone, PartialEq)]
pub struct DbReach {
    pub kind: DbKind,
    /// The port it listens on, when known.
    pub port: Option<u16>,
    /// Whether it is in a VPC (its VPC is known).
    pub in_vpc: bool,
    /// [`DbExposure::publicly_accessible`].
    pub publicly_accessible: Option<bool>,
    /// [`DbExposure::internet_reachable`].
    pub internet_reachable: Option<bool>,
    /// The link of [`DbExposure::blocked_by`].
    pub blocked_link: Option<BlockLink>,
    /// Whether any security group is attached.
    pub has_security_groups: bool,
    /// Who the attached groups let in on the port (shared by databases with the same
    /// groups; counted without atomics: a reach is one thread's, and there is one per
    /// database).
    pub sources: Rc<SourceSets>,
    /// Whether some peered VPC reaches the port ([`DbExposure::peered_vpcs`] not empty).
    pub peered: bool,
    /// Whether peering reachability is partly unknown ([`DbExposure::peering_unknown`]).
    pub peering_unknown: bool,
}

/// The addresses a database's security groups let in on a port ([`Sources`] as sets).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceSets {
    /// Every IPv4 source: CIDR rules, prefix-list entries and the private addresses of
    /// interfaces carrying referenced groups ([`Sources::ipv4`]).
    pub ipv4: V4Set,
    pub ipv6: V6Set,
    /// [`Sources::complete`].
    pub complete: bool,
    /// [`Sources::cidr_complete`].
    pub cidr_complete: bool,
}

impl SourceSets {
    pub(crate) fn of_eval(sgs: &SgEval<'_>) -> SourceSets {
        SourceSets {
            ipv4: sgs.v4().cidr.union_ref(&sgs.v4().refs).into_owned(),
            ipv6: sgs.v6().cidr.union_ref(&sgs.v6().refs).into_owned(),
            complete: sgs.members.iter().all(|m| m.unknown.is_empty()),
            cidr_complete: sgs.cidr_unknown.is_empty(),
        }
    }

    /// The sets of a report's sources (its CIDR blocks parsed back; a block that does not
    /// parse, which the engine never writes, is left out).
    pub fn of(sources: &Sources) -> SourceSets {
        let ipv4 = sources.ipv4.iter().fold(V4Set::empty(), |mut acc, c| {
            acc.union_in_place(&ipset::parse_v4(&c.cidr).unwrap_or_default());
            acc
        });
        let ipv6 = sources.ipv6.iter().fold(V6Set::empty(), |mut acc, c| {
            acc.union_in_place(&ipset::parse_v6(&c.cidr).unwrap_or_default());
            acc
        });
        SourceSets {
            ipv4,
            ipv6,
            complete: sources.complete,
            cidr_complete: sources.cidr_complete,
        }
    }

    /// Whether a minimal CIDR block of the sets (what [`Sources::ipv4`] and [`Sources::ipv6`]
    /// list, without writing them) is broader than `/max_v4` (IPv4) or `/max_v6` (IPv6).
    pub fn has_block_broader_than(&self, max_v4: u32, max_v6: u32) -> bool {
        self.ipv4.prefixes().any(|(_, l)| l < max_v4)
            || self.ipv6.prefixes().any(|(_, l)| l < max_v6)
    }
}

impl DbReach {
    /// The facts of an exposure report.
    pub fn of(d: &DbExposure) -> DbReach {
        DbReach {
            kind: d.kind,
            port: d.port,
            in_vpc: d.vpc_id.is_some(),
            publicly_accessible: d.publicly_accessible,
            internet_reachable: d.internet_reachable,
            blocked_link: d.blocked_by.as_ref().map(|b| b.link),
            has_security_groups: !d.security_groups.is_empty(),
            sources: Rc::new(SourceSets::of(&d.sources)),
            peered: !d.peered_vpcs.is_empty(),
            peering_unknown: d.peering_unknown.is_some(),
        }
    }
}

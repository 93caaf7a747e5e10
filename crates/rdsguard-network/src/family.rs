//! What differs between IPv4 and IPv6, so the analysis is written once for both.

use crate::ipset::{Addr, Cidr, IpSet, V4Set, V6Set};
use crate::nacl::{NaclEval, NaclFamily};
use crate::report::{AddressSets, Family, cidrs4, cidrs6};
use crate::routes::{RouteEval, RouteFamily};
use crate::sg::{ParsedPrefixList, SgEval, SgFamily};

pub(crate) trait Fam: Addr {
    const FAMILY: Family;
    /// The set of a parsed CIDR when it is of this family.
    fn from_cidr(c: Cidr) -> Option<IpSet<Self>>;
    fn route(r: &RouteEval) -> &RouteFamily<Self>;
    fn nacl(n: &NaclEval) -> &NaclFamily<Self>;
    fn sg<'s>(s: &'s SgEval<'_>) -> &'s SgFamily<Self>;
    fn prefix_list_set(p: &ParsedPrefixList) -> IpSet<Self>;
    fn address_sets(s: &IpSet<Self>) -> AddressSets;
}

impl Fam for u32 {
    const FAMILY: Family = Family::Ipv4;
    fn from_cidr(c: Cidr) -> Option<V4Set> {
        match c {
            Cidr::V4(a, l) => Some(V4Set::prefix(a, l)),
            Cidr::V6(..) => None,
        }
    }
    fn route(r: &RouteEval) -> &RouteFamily<u32> {
        &r.v4
    }
    fn nacl(n: &NaclEval) -> &NaclFamily<u32> {
        &n.v4
    }
    fn sg<'s>(s: &'s SgEval<'_>) -> &'s SgFamily<u32> {
        s.v4()
    }
    fn prefix_list_set(p: &ParsedPrefixList) -> V4Set {
        p.v4.clone()
    }
    fn address_sets(s: &V4Set) -> AddressSets {
        AddressSets {
            ipv4: cidrs4(s),
            ipv6: Vec::new(),
        }
    }
}

impl Fam for u128 {
    const FAMILY: Family = Family::Ipv6;
    fn from_cidr(c: Cidr) -> Option<V6Set> {
        match c {
            Cidr::V6(a, l) => Some(V6Set::prefix(a, l)),
            Cidr::V4(..) => None,
        }
    }
    fn route(r: &RouteEval) -> &RouteFamily<u128> {
        &r.v6
    }
    fn nacl(n: &NaclEval) -> &NaclFamily<u128> {
        &n.v6
    }
    fn sg<'s>(s: &'s SgEval<'_>) -> &'s SgFamily<u128> {
        s.v6()
    }
    fn prefix_list_set(p: &ParsedPrefixList) -> V6Set {
        p.v6.clone()
    }
    fn address_sets(s: &V6Set) -> AddressSets {
        AddressSets {
            ipv4: Vec::new(),
            ipv6: cidrs6(s),
        }
    }
}

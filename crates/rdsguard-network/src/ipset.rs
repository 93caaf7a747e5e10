//! Sets of IP addresses as sorted, disjoint, non-adjacent inclusive intervals of integers
//! (`u32` for IPv4, `u128` for IPv6), with exact union, intersection, difference and
//! complement, and conversion to the unique minimal list of CIDR blocks.
//!
//! Every reachability question in this crate is answered with these sets, never by comparing
//! CIDR strings: `10.0.0.0/9` plus `10.128.0.0/9` is `10.0.0.0/8`, and `0.0.0.0/0` minus
//! `10.0.0.0/8` is the 8 blocks that remain.

use std::fmt::Debug;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};

use ipnet::{IpNet, Ipv6Net};

/// An unsigned integer used as an address: `u32` (IPv4), `u128` (IPv6), `u8` (exhaustive tests).
pub trait Addr: Copy + Ord + Eq + Hash + Debug + Send + Sync + 'static {
    const BITS: u32;
    const ZERO: Self;
    const MAX: Self;
    /// `self + 1`, or `None` at the top of the address space.
    fn succ(self) -> Option<Self>;
    /// `self - 1`, or `None` at zero.
    fn pred(self) -> Option<Self>;
    /// First and last address of the `/prefix_len` block containing `self`.
    fn block(self, prefix_len: u32) -> (Self, Self);
    /// Trailing zero bits (`BITS` for zero).
    fn trailing_zeros_(self) -> u32;
    /// `end - start` (number of addresses minus one), widened to `u128`.
    fn span(start: Self, end: Self) -> u128;
    /// `self + 2^k`, or `None` on overflow.
    fn add_pow2(self, k: u32) -> Option<Self>;
}

macro_rules! impl_addr {
    ($t:ty) => {
        impl Addr for $t {
            const BITS: u32 = <$t>::BITS;
            const ZERO: Self = 0;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Option<Self> {
                self.checked_add(1)
            }
            fn pred(self) -> Option<Self> {
                self.checked_sub(1)
            }
            fn block(self, prefix_len: u32) -> (Self, Self) {
                let len = prefix_len.min(Self::BITS);
                let mask: $t = if len == 0 {
                    0
                } else {
                    <$t>::MAX << (Self::BITS - len)
                };
                let start = self & mask;
                (start, start | !mask)
            }
            fn trailing_zeros_(self) -> u32 {
                self.trailing_zeros()
            }
            fn span(start: Self, end: Self) -> u128 {
                (end as u128) - (start as u128)
            }
            fn add_pow2(self, k: u32) -> Option<Self> {
                if k >= Self::BITS {
                    return None;
                }
                self.checked_add((1 as $t) << k)
            }
        }
    };
}

impl_addr!(u8);
impl_addr!(u32);
impl_addr!(u128);

/// A set of addresses: sorted, disjoint, non-adjacent inclusive ranges (the canonical form, so
/// two sets are equal exactly when their `ranges` are equal).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IpSet<A: Addr> {
    ranges: Vec<(A, A)>,
}

impl<A: Addr> Default for IpSet<A> {
    fn default() -> Self {
        IpSet::empty()
    }
}

/// IPv4 address set.
pub type V4Set = IpSet<u32>;
/// IPv6 address set.
pub type V6Set = IpSet<u128>;

impl<A: Addr> IpSet<A> {
    pub fn empty() -> Self {
        IpSet { ranges: Vec::new() }
    }

    /// Every address of the family.
    pub fn full() -> Self {
        IpSet {
            ranges: vec![(A::ZERO, A::MAX)],
        }
    }

    /// The addresses `start..=end` (empty when `start > end`).
    pub fn range(start: A, end: A) -> Self {
        if start > end {
            return Self::empty();
        }
        IpSet {
            ranges: vec![(start, end)],
        }
    }

    /// The block `addr/prefix_len` (host bits of `addr` are ignored).
    pub fn prefix(addr: A, prefix_len: u32) -> Self {
        let (s, e) = addr.block(prefix_len);
        Self::range(s, e)
    }

    /// Any ranges, overlapping or not, in any order.
    pub fn from_ranges(mut ranges: Vec<(A, A)>) -> Self {
        ranges.retain(|(s, e)| s <= e);
        ranges.sort_unstable();
        IpSet {
            ranges: normalize_sorted(ranges),
        }
    }

    pub fn ranges(&self) -> &[(A, A)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.ranges == [(A::ZERO, A::MAX)]
    }

    pub fn contains(&self, addr: A) -> bool {
        // Index of the first range starting after addr; the one before may contain it.
        let i = self.ranges.partition_point(|(s, _)| *s <= addr);
        i > 0 && self.ranges[i - 1].1 >= addr
    }

    pub fn union(&self, other: &Self) -> Self {
        self.union_ref(other).into_owned()
    }

    /// The union, borrowing one side when the other is empty (no copy).
    pub fn union_ref<'s>(&'s self, other: &'s Self) -> std::borrow::Cow<'s, Self> {
        use std::borrow::Cow;
        if other.is_empty() {
            return Cow::Borrowed(self);
        }
        if self.is_empty() {
            return Cow::Borrowed(other);
        }
        Cow::Owned(self.merged(other))
    }

    fn merged(&self, other: &Self) -> Self {
        let mut merged = Vec::with_capacity(self.ranges.len() + other.ranges.len());
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() || j < other.ranges.len() {
            let take_left = j >= other.ranges.len()
                || (i < self.ranges.len() && self.ranges[i] <= other.ranges[j]);
            if take_left {
                merged.push(self.ranges[i]);
                i += 1;
            } else {
                merged.push(other.ranges[j]);
                j += 1;
            }
        }
        IpSet {
            ranges: normalize_sorted(merged),
        }
    }

    /// The union of `sets`, built once (no intermediate unions): a copy of the only
    /// non-empty one, or one merge of two.
    pub fn union_all<'s>(sets: impl Iterator<Item = &'s Self> + Clone) -> Self
    where
        A: 's,
    {
        let mut non_empty = sets.filter(|s| !s.is_empty());
        let (Some(first), second) = (non_empty.next(), non_empty.next()) else {
            return Self::empty();
        };
        let Some(second) = second else {
            return first.clone();
        };
        let mut all = first.merged(second);
        for s in non_empty {
            all = all.merged(s);
        }
        all
    }

    pub fn union_in_place(&mut self, other: &Self) {
        if other.is_empty() {
            return;
        }
        *self = if self.is_empty() {
            other.clone()
        } else {
            self.merged(other)
        };
    }

    pub fn intersection(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a_start, a_end) = self.ranges[i];
            let (b_start, b_end) = other.ranges[j];
            let lo = a_start.max(b_start);
            let hi = a_end.min(b_end);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a_end < b_end {
                i += 1;
            } else {
                j += 1;
            }
        }
        // Pieces of disjoint, non-adjacent inputs are themselves disjoint and non-adjacent.
        IpSet { ranges: out }
    }

    pub fn intersects(&self, other: &Self) -> bool {
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a_start, a_end) = self.ranges[i];
            let (b_start, b_end) = other.ranges[j];
            if a_start.max(b_start) <= a_end.min(b_end) {
                return true;
            }
            if a_end < b_end {
                i += 1;
            } else {
                j += 1;
            }
        }
        false
    }

    pub fn complement(&self) -> Self {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut next_free = Some(A::ZERO);
        for &(s, e) in &self.ranges {
            if let Some(free) = next_free
                && free < s
                && let Some(before) = s.pred()
            {
                out.push((free, before));
            }
            next_free = e.succ();
        }
        if let Some(free) = next_free {
            out.push((free, A::MAX));
        }
        IpSet { ranges: out }
    }

    pub fn difference(&self, other: &Self) -> Self {
        if other.is_empty() || self.is_empty() {
            return self.clone();
        }
        // One pass over both: each range of `self` with the ranges of `other` cut out of it.
        // Pieces of disjoint, non-adjacent ranges stay disjoint and non-adjacent.
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut j = 0;
        for &(start, end) in &self.ranges {
            while other.ranges.get(j).is_some_and(|&(_, e)| e < start) {
                j += 1;
            }
            let mut from = Some(start);
            let mut k = j;
            while let Some(kept) = from {
                match other.ranges.get(k) {
                    Some(&(cut_start, cut_end)) if cut_start <= end => {
                        if cut_start > kept
                            && let Some(before) = cut_start.pred()
                        {
                            out.push((kept, before));
                        }
                        from = if cut_end >= end { None } else { cut_end.succ() };
                        k += 1;
                    }
                    _ => {
                        out.push((kept, end));
                        from = None;
                    }
                }
            }
        }
        IpSet { ranges: out }
    }

    pub fn is_subset(&self, other: &Self) -> bool {
        // In canonical form a range is covered only by one range of `other` holding it all.
        let mut j = 0;
        self.ranges.iter().all(|&(start, end)| {
            while other.ranges.get(j).is_some_and(|&(_, e)| e < start) {
                j += 1;
            }
            other
                .ranges
                .get(j)
                .is_some_and(|&(s, e)| s <= start && end <= e)
        })
    }

    /// Number of addresses, saturating at `u128::MAX` (only the full IPv6 space, 2^128,
    /// saturates; use [`IpSet::count_decimal`] for an exact figure).
    pub fn count(&self) -> u128 {
        self.ranges.iter().fold(0u128, |acc, &(s, e)| {
            acc.saturating_add(A::span(s, e)).saturating_add(1)
        })
    }

    /// Exact number of addresses in decimal (2^128 included).
    pub fn count_decimal(&self) -> String {
        if A::BITS == 128 && self.is_full() {
            return TWO_POW_128.to_string();
        }
        self.count().to_string()
    }

    /// The unique minimal list of CIDR blocks covering exactly this set, in address order,
    /// as `(network address, prefix length)`.
    pub fn to_prefixes(&self) -> Vec<(A, u32)> {
        self.prefixes().collect()
    }

    /// [`to_prefixes`](Self::to_prefixes), one block at a time.
    pub fn prefixes(&self) -> impl Iterator<Item = (A, u32)> + '_ {
        let mut ranges = self.ranges.iter();
        let mut current: Option<(A, A)> = None;
        std::iter::from_fn(move || {
            let (s, end) = match current {
                Some(c) => c,
                None => *ranges.next()?,
            };
            let span = A::span(s, end);
            // Largest k with 2^k addresses fitting in s..=end: floor(log2(span + 1)).
            let fit = match span.checked_add(1) {
                Some(n) => 127 - n.leading_zeros(),
                None => 128,
            };
            let k = s.trailing_zeros_().min(fit).min(A::BITS);
            current = match s.add_pow2(k) {
                Some(next) if next <= end => Some((next, end)),
                _ => None,
            };
            Some((s, A::BITS - k))
        })
    }
}

/// Merge sorted ranges that overlap or touch.
fn normalize_sorted<A: Addr>(mut sorted: Vec<(A, A)>) -> Vec<(A, A)> {
    // In place: `kept` ranges are final, each next range merges into the last or follows it.
    let mut kept = 0;
    for i in 0..sorted.len() {
        let (s, e) = sorted[i];
        if kept > 0 {
            let last = &mut sorted[kept - 1];
            let touches = match last.1.succ() {
                None => true,
                Some(after) => s <= after,
            };
            if touches {
                if e > last.1 {
                    last.1 = e;
                }
                continue;
            }
        }
        sorted[kept] = (s, e);
        kept += 1;
    }
    sorted.truncate(kept);
    sorted
}

/// 2^128, the size of the IPv6 address space.
pub const TWO_POW_128: &str = "340282366920938463463374607431768211456";

/// A CIDR (or bare address) that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IPv4 or IPv6 CIDR block or address")]
pub struct CidrError(pub String);

/// A parsed CIDR block of either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cidr {
    V4(u32, u32),
    V6(u128, u32),
}

impl Cidr {
    /// `a.b.c.d/n`, `a.b.c.d` (a /32), `x::/n` or `x::y` (a /128). Host bits are ignored.
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let t = rdsguard_model::trim(text);
        if let Some((addr, len)) = plain_v4_cidr(t) {
            return Ok(Cidr::V4(addr & prefix_mask(len), len));
        }
        // A CIDR has a `/`; a bare address (interfaces list thousands) skips the CIDR parser.
        if t.contains('/')
            && let Ok(net) = t.parse::<IpNet>()
        {
            return Ok(match net {
                IpNet::V4(n) => Cidr::V4(u32::from(n.network()), u32::from(n.prefix_len())),
                IpNet::V6(n) => Cidr::V6(u128::from(n.network()), u32::from(n.prefix_len())),
            });
        }
        match t.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => Ok(Cidr::V4(u32::from(a), 32)),
            Ok(IpAddr::V6(a)) => Ok(Cidr::V6(u128::from(a), 128)),
            Err(_) => Err(CidrError(text.to_string())),
        }
    }
}

/// `a.b.c.d/n` in its plain form (decimal octets and length, no leading zeros), read
/// directly: security groups hold thousands of these, and the general parser costs several
/// times more. Anything else is left to it (`None`).
fn plain_v4_cidr(t: &str) -> Option<(u32, u32)> {
    // A decimal number of at most three digits, without a leading zero.
    fn number(b: &[u8]) -> Option<u32> {
        if b.is_empty() || b.len() > 3 || (b.len() > 1 && b[0] == b'0') {
            return None;
        }
        b.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    }
    let (addr, len) = t.split_once('/')?;
    let len = number(len.as_bytes()).filter(|&l| l <= 32)?;
    let mut octets = addr.as_bytes().split(|&b| b == b'.');
    let mut value = 0u32;
    for _ in 0..4 {
        let octet = number(octets.next()?).filter(|&o| o <= 255)?;
        value = (value << 8) | octet;
    }
    octets.next().is_none().then_some((value, len))
}

/// The mask of a `len`-bit IPv4 prefix.
fn prefix_mask(len: u32) -> u32 {
    u32::MAX.checked_shl(32 - len).unwrap_or(0)
}

/// Parse an IPv4 CIDR or address into a set.
pub fn parse_v4(text: &str) -> Result<V4Set, CidrError> {
    match Cidr::parse(text)? {
        Cidr::V4(a, l) => Ok(V4Set::prefix(a, l)),
        Cidr::V6(..) => Err(CidrError(text.to_string())),
    }
}

/// Parse an IPv6 CIDR or address into a set.
pub fn parse_v6(text: &str) -> Result<V6Set, CidrError> {
    match Cidr::parse(text)? {
        Cidr::V6(a, l) => Ok(V6Set::prefix(a, l)),
        Cidr::V4(..) => Err(CidrError(text.to_string())),
    }
}

/// `a.b.c.d/n`.
pub fn format_v4(addr: u32, prefix_len: u32) -> String {
    // Hand-rolled: reports hold hundreds of thousands of blocks and `fmt` is the slow part.
    fn push_u8(s: &mut String, v: u32) {
        if v >= 100 {
            s.push(char::from(b'0' + (v / 100) as u8));
        }
        if v >= 10 {
            s.push(char::from(b'0' + ((v / 10) % 10) as u8));
        }
        s.push(char::from(b'0' + (v % 10) as u8));
    }
    let mut s = String::with_capacity(18);
    for (i, shift) in [24u32, 16, 8, 0].into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        push_u8(&mut s, (addr >> shift) & 0xff);
    }
    s.push('/');
    push_u8(&mut s, prefix_len.min(32));
    s
}

/// `x::/n` in the canonical compressed form.
pub fn format_v6(addr: u128, prefix_len: u32) -> String {
    match Ipv6Net::new(Ipv6Addr::from(addr), prefix_len.min(128) as u8) {
        Ok(n) => n.to_string(),
        Err(_) => format!("{}/{}", Ipv6Addr::from(addr), prefix_len),
    }
}

impl V4Set {
    /// The minimal CIDR list as strings.
    pub fn to_cidr_strings(&self) -> Vec<String> {
        self.to_prefixes()
            .into_iter()
            .map(|(a, l)| format_v4(a, l))
            .collect()
    }
}

impl V6Set {
    /// The minimal CIDR list as strings.
    pub fn to_cidr_strings(&self) -> Vec<String> {
        self.to_prefixes()
            .into_iter()
            .map(|(a, l)| format_v6(a, l))
            .collect()
    }
}

/// Addresses that can be the source of a packet arriving from the internet.
///
/// IPv4: everything except the blocks that are never routed on the public internet
/// (RFC 6890): `0.0.0.0/8`, `10.0.0.0/8`, `100.64.0.0/10` (carrier-grade NAT), `127.0.0.0/8`,
/// `169.254.0.0/16`, `172.16.0.0/12`, `192.168.0.0/16` and `224.0.0.0/3` (multicast and
/// reserved). Documentation ranges such as `203.0.113.0/24` are kept: they are global unicast
/// by form, and tests and examples use them as internet addresses.
pub fn internet_v4() -> V4Set {
    let private = [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    ];
    let mut blocked = V4Set::empty();
    for p in private {
        if let Ok(s) = parse_v4(p) {
            blocked.union_in_place(&s);
        }
    }
    blocked.complement()
}

/// IPv6 internet sources: the global unicast space `2000::/3`.
pub fn internet_v6() -> V6Set {
    V6Set::prefix(0x2000u128 << 112, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_and_bare_addresses_parse() {
        assert_eq!(Cidr::parse("10.1.2.3"), Ok(Cidr::V4(0x0a01_0203, 32)));
        assert_eq!(Cidr::parse(" 10.1.2.3/16 "), Ok(Cidr::V4(0x0a01_0000, 16)));
        assert_eq!(Cidr::parse("::1"), Ok(Cidr::V6(1, 128)));
        assert_eq!(
            Cidr::parse("2001:db8::/32"),
            Ok(Cidr::V6(0x2001_0db8 << 96, 32))
        );
        for bad in ["", "10.1.2", "10.1.2.3/33", "nope", "10.1.2.3/"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        // The plain form is read directly; others (leading zeros, IPv6) by the general parser.
        assert_eq!(plain_v4_cidr("10.1.2.3/16"), Some((0x0a01_0203, 16)));
        assert_eq!(plain_v4_cidr("0.0.0.0/0"), Some((0, 0)));
        for other in [
            "10.01.2.3/16",
            "10.1.2.3/016",
            "10.1.2.3.4/8",
            "256.1.2.3/8",
            "::/0",
        ] {
            assert_eq!(plain_v4_cidr(other), None, "{other}");
        }
    }
    use std::net::Ipv4Addr;

    fn v4(s: &str) -> V4Set {
        parse_v4(s).unwrap()
    }

    #[test]
    fn adjacent_blocks_merge_to_their_parent() {
        let s = v4("10.0.0.0/9").union(&v4("10.128.0.0/9"));
        assert_eq!(s.to_cidr_strings(), vec!["10.0.0.0/8"]);
    }

    #[test]
    fn overlapping_cidrs_merge() {
        let s = v4("10.0.0.0/16")
            .union(&v4("10.0.5.0/24"))
            .union(&v4("10.1.0.0/16"));
        assert_eq!(s.to_cidr_strings(), vec!["10.0.0.0/15"]);
        assert_eq!(s.count(), 131_072);
    }

    #[test]
    fn difference_splits_into_minimal_blocks() {
        let s = V4Set::full().difference(&v4("10.0.0.0/8"));
        assert_eq!(
            s.to_cidr_strings(),
            vec![
                "0.0.0.0/5",
                "8.0.0.0/7",
                "11.0.0.0/8",
                "12.0.0.0/6",
                "16.0.0.0/4",
                "32.0.0.0/3",
                "64.0.0.0/2",
                "128.0.0.0/1"
            ]
        );
    }

    #[test]
    fn full_spaces_render_as_slash_zero() {
        assert_eq!(V4Set::full().to_cidr_strings(), vec!["0.0.0.0/0"]);
        assert_eq!(V6Set::full().to_cidr_strings(), vec!["::/0"]);
        assert_eq!(V6Set::full().count_decimal(), TWO_POW_128);
        assert_eq!(V4Set::full().count_decimal(), "4294967296");
    }

    #[test]
    fn host_bits_are_ignored_and_bare_addresses_are_hosts() {
        assert_eq!(v4("10.1.2.3/8").to_cidr_strings(), vec!["10.0.0.0/8"]);
        assert_eq!(v4("10.1.2.3").to_cidr_strings(), vec!["10.1.2.3/32"]);
        assert_eq!(
            parse_v6("2001:db8::1").unwrap().to_cidr_strings(),
            vec!["2001:db8::1/128"]
        );
        assert!(parse_v4("::/0").is_err());
        assert!(parse_v4("not-a-cidr").is_err());
        assert!(parse_v6("10.0.0.0/8").is_err());
    }

    #[test]
    fn internet_excludes_private_space() {
        let net = internet_v4();
        assert!(!net.contains(u32::from(Ipv4Addr::new(10, 1, 2, 3))));
        assert!(!net.contains(u32::from(Ipv4Addr::new(192, 168, 1, 1))));
        assert!(net.contains(u32::from(Ipv4Addr::new(8, 8, 8, 8))));
        assert!(net.contains(u32::from(Ipv4Addr::new(203, 0, 113, 7))));
        let net6 = internet_v6();
        assert_eq!(net6.to_cidr_strings(), vec!["2000::/3"]);
    }

    #[test]
    fn v4_formatting_matches_the_standard_library() {
        for (a, l) in [
            (0u32, 0u32),
            (u32::MAX, 32),
            (0x0a00_0000, 8),
            (0xc0a8_0164, 31),
            (0x0102_0304, 9),
        ] {
            let expected = format!("{}/{l}", Ipv4Addr::from(a));
            assert_eq!(format_v4(a, l), expected);
        }
    }

    #[test]
    fn contains_at_boundaries() {
        let s = V4Set::range(10, 20).union(&V4Set::range(30, 40));
        for (x, want) in [
            (9, false),
            (10, true),
            (20, true),
            (21, false),
            (30, true),
            (41, false),
        ] {
            assert_eq!(s.contains(x), want, "{x}");
        }
    }
}

#[cfg(test)]
mod proptests {
    //! The algebra checked exhaustively against plain bitmaps over the 256-address space of
    //! `u8`, plus sampled membership checks on `u32` and `u128`.
    use super::*;
    use proptest::prelude::*;

    fn bitmap(s: &IpSet<u8>) -> [bool; 256] {
        let mut m = [false; 256];
        for x in 0..=255u8 {
            m[x as usize] = s.contains(x);
        }
        m
    }

    fn from_bitmap(m: &[bool; 256]) -> IpSet<u8> {
        IpSet::from_ranges(
            (0..=255u8)
                .filter(|x| m[*x as usize])
                .map(|x| (x, x))
                .collect(),
        )
    }

    /// Minimal number of aligned blocks partitioning exactly the set (binary-trie recursion).
    fn min_blocks(m: &[bool; 256], start: usize, size: usize) -> usize {
        let slice = &m[start..start + size];
        if slice.iter().all(|b| *b) {
            1
        } else if slice.iter().all(|b| !*b) {
            0
        } else {
            min_blocks(m, start, size / 2) + min_blocks(m, start + size / 2, size / 2)
        }
    }

    fn is_canonical<A: Addr>(s: &IpSet<A>) -> bool {
        s.ranges().windows(2).all(|w| match w[0].1.succ() {
            Some(after) => after < w[1].0,
            None => false,
        }) && s.ranges().iter().all(|(a, b)| a <= b)
    }

    fn set8() -> impl Strategy<Value = IpSet<u8>> {
        prop::collection::vec((any::<u8>(), any::<u8>()), 0..6).prop_map(|v| {
            IpSet::from_ranges(v.into_iter().map(|(a, b)| (a.min(b), a.max(b))).collect())
        })
    }

    fn set32() -> impl Strategy<Value = IpSet<u32>> {
        prop::collection::vec((any::<u32>(), 0u32..=32), 0..8).prop_map(|v| {
            v.into_iter().fold(IpSet::empty(), |acc, (a, l)| {
                acc.union(&IpSet::prefix(a, l))
            })
        })
    }

    fn set128() -> impl Strategy<Value = IpSet<u128>> {
        prop::collection::vec((any::<u128>(), 0u32..=128), 0..8).prop_map(|v| {
            v.into_iter().fold(IpSet::empty(), |acc, (a, l)| {
                acc.union(&IpSet::prefix(a, l))
            })
        })
    }

    proptest! {
        #[test]
        fn u8_algebra_matches_bitmaps(a in set8(), b in set8()) {
            let (ma, mb) = (bitmap(&a), bitmap(&b));
            let u = a.union(&b);
            let i = a.intersection(&b);
            let d = a.difference(&b);
            let c = a.complement();
            for x in 0..256usize {
                prop_assert_eq!(bitmap(&u)[x], ma[x] || mb[x]);
                prop_assert_eq!(bitmap(&i)[x], ma[x] && mb[x]);
                prop_assert_eq!(bitmap(&d)[x], ma[x] && !mb[x]);
                prop_assert_eq!(bitmap(&c)[x], !ma[x]);
            }
            for s in [&u, &i, &d, &c] {
                prop_assert!(is_canonical(s));
                // Canonical form is unique: rebuilding from the bitmap gives the same value.
                prop_assert_eq!(s, &from_bitmap(&bitmap(s)));
            }
            prop_assert_eq!(a.intersects(&b), !i.is_empty());
            prop_assert_eq!(a.is_subset(&b), d.is_empty());
            prop_assert_eq!(a.is_subset(&b), (0..256).all(|x| !ma[x] || mb[x]));
            prop_assert_eq!(a.count() as usize, ma.iter().filter(|x| **x).count());
        }

        #[test]
        fn plain_ipv4_cidrs_read_as_the_general_parser_reads_them(
            octets in proptest::collection::vec(0u32..300, 4),
            len in 0u32..40,
            zero_padded: bool,
        ) {
            let octet = |o: u32| if zero_padded && o < 10 { format!("0{o}") } else { o.to_string() };
            let text = format!(
                "{}.{}.{}.{}/{len}",
                octet(octets[0]), octet(octets[1]), octet(octets[2]), octet(octets[3])
            );
            let general = match text.parse::<IpNet>() {
                Ok(IpNet::V4(n)) => Some((u32::from(n.network()), u32::from(n.prefix_len()))),
                _ => None,
            };
            if let Some((addr, len)) = plain_v4_cidr(&text) {
                // What the fast path reads, the general parser reads the same way.
                prop_assert_eq!(Some((addr & prefix_mask(len), len)), general);
            }
            match Cidr::parse(&text) {
                Ok(Cidr::V4(a, l)) => prop_assert_eq!(Some((a, l)), general),
                Ok(Cidr::V6(..)) => prop_assert!(false, "{} read as IPv6", text),
                Err(_) => prop_assert_eq!(general, None),
            }
        }

        #[test]
        fn a_union_of_many_is_the_union_of_each(sets in proptest::collection::vec(set8(), 0..5)) {
            let all = IpSet::union_all(sets.iter());
            let expected: Vec<bool> = (0..256)
                .map(|x| sets.iter().any(|s| bitmap(s)[x]))
                .collect();
            prop_assert_eq!(bitmap(&all).to_vec(), expected);
            // Canonical, as every other operation's result.
            prop_assert_eq!(&all, &from_bitmap(&bitmap(&all)));
        }

        #[test]
        fn u8_prefixes_are_minimal_and_exact(a in set8()) {
            let m = bitmap(&a);
            let prefixes = a.to_prefixes();
            prop_assert_eq!(prefixes.len(), min_blocks(&m, 0, 256));
            let rebuilt = prefixes.iter().fold(IpSet::<u8>::empty(), |acc, (addr, len)| {
                acc.union(&IpSet::prefix(*addr, *len))
            });
            prop_assert_eq!(&rebuilt, &a);
            // Blocks are aligned, sorted and disjoint.
            for (addr, len) in &prefixes {
                prop_assert_eq!(addr.block(*len).0, *addr);
            }
            prop_assert!(prefixes.windows(2).all(|w| w[0].1 == 0 || w[0].0.block(w[0].1).1 < w[1].0));
        }

        #[test]
        fn u32_laws(a in set32(), b in set32(), c in set32(), x in any::<u32>()) {
            prop_assert_eq!(a.union(&b).contains(x), a.contains(x) || b.contains(x));
            prop_assert_eq!(a.intersection(&b).contains(x), a.contains(x) && b.contains(x));
            prop_assert_eq!(a.difference(&b).contains(x), a.contains(x) && !b.contains(x));
            prop_assert_eq!(a.union(&b), b.union(&a));
            prop_assert_eq!(a.intersection(&b.union(&c)), a.intersection(&b).union(&a.intersection(&c)));
            prop_assert_eq!(a.complement().complement(), a.clone());
            prop_assert_eq!(a.union(&b).complement(), a.complement().intersection(&b.complement()));
            let rebuilt = a.to_prefixes().into_iter().fold(V4Set::empty(), |acc, (p, l)| acc.union(&V4Set::prefix(p, l)));
            prop_assert_eq!(&rebuilt, &a);
            // Boundaries of every range are members, their outer neighbours are not.
            for &(s, e) in a.ranges() {
                prop_assert!(a.contains(s) && a.contains(e));
                if let Some(p) = s.pred() { prop_assert!(!a.contains(p)); }
                if let Some(n) = e.succ() { prop_assert!(!a.contains(n)); }
            }
        }

        #[test]
        fn u128_laws(a in set128(), b in set128(), x in any::<u128>()) {
            prop_assert_eq!(a.union(&b).contains(x), a.contains(x) || b.contains(x));
            prop_assert_eq!(a.difference(&b).contains(x), a.contains(x) && !b.contains(x));
            prop_assert_eq!(a.difference(&b).union(&a.intersection(&b)), a.clone());
            let rebuilt = a.to_prefixes().into_iter().fold(V6Set::empty(), |acc, (p, l)| acc.union(&V6Set::prefix(p, l)));
            prop_assert_eq!(&rebuilt, &a);
            prop_assert!(is_canonical(&a.complement()));
        }
    }
}

//! The rdsguard snapshot: a versioned, serialisable picture of everything RDS security depends
//! on in one or more AWS accounts (RDS, EC2 networking, KMS, IAM, CloudTrail, Security Hub).
//!
//! The snapshot is the contract between collection and analysis. The collector fills it from
//! the AWS APIs; the checks, the IAM engine and the network engine read it and nothing else, so
//! an offline audit of a saved snapshot gives exactly the same result as a live one.
//!
//! Collection never lies: every API call that failed is recorded as a [`Gap`], and analysis
//! turns gaps into "not assessed" results instead of assuming the data was empty.
//!
//! Field names follow the AWS API shapes in snake_case so that the mapping from the SDK is
//! mechanical and the JSON is recognisable to anyone who knows the AWS APIs.

pub mod ec2;
pub mod gap;
pub mod iam;
pub mod io;
pub mod kms;
pub mod logging;
pub mod org;
pub mod rds;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use ec2::*;
pub use gap::*;
pub use iam::*;
pub use kms::*;
pub use logging::*;
pub use org::*;
pub use rds::*;

/// Version of the snapshot JSON schema. Bump on any incompatible change; readers refuse
/// snapshots with a different major version rather than misreading them.
pub const SCHEMA_VERSION: u32 = 1;

/// Resource tags, ordered for stable output.
pub type Tags = BTreeMap<String, String>;

/// A whole snapshot: one or more accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Snapshot {
    pub schema_version: u32,
    /// RFC 3339 time at which collection started.
    pub collected_at: String,
    /// Version of rdsguard that wrote the snapshot.
    pub tool_version: String,
    /// Where the data came from (live collection, the bundled demo, a synthetic generator).
    pub source: SnapshotSource,
    /// The AWS Organization the accounts belong to, when collected with `--org` (SCPs, RCPs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationData>,
    pub accounts: Vec<AccountSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SnapshotSource {
    /// `live`, `demo` or `synthetic`.
    pub kind: String,
    /// Custom endpoint the collector talked to, if any (emulators, compatible endpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// Regions that were requested.
    #[serde(default)]
    pub regions: Vec<String>,
}

/// Everything about one account. IAM is global; everything else is per region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccountSnapshot {
    pub account_id: String,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// IAM (global). `None` when it was not collected at all (see `gaps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam: Option<IamData>,
    pub regions: Vec<RegionSnapshot>,
    /// Gaps of global (non-regional) calls, such as IAM or STS (including `sts:AssumeRole`
    /// into this account, when it could not be assessed at all).
    #[serde(default)]
    pub gaps: Vec<Gap>,
    /// Account name in the organization, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the account sits in the organization, root first and the account itself last,
    /// each node with the SCPs and RCPs attached to it. Empty when the account is not in an
    /// organization or the organization was not collected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub org_path: Vec<OrgTarget>,
}

/// Everything about one region of one account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RegionSnapshot {
    pub region: String,
    #[serde(default)]
    pub rds: RdsData,
    #[serde(default)]
    pub ec2: Ec2Data,
    #[serde(default)]
    pub kms: KmsData,
    #[serde(default)]
    pub cloudtrail: CloudTrailData,
    #[serde(default)]
    pub securityhub: SecurityHubData,
    #[serde(default)]
    pub backup: BackupData,
    /// Every call in this region that failed, and so every fact that is unknown.
    #[serde(default)]
    pub gaps: Vec<Gap>,
}

impl Snapshot {
    /// An empty snapshot stamped with the current schema version.
    pub fn new(source: SnapshotSource, collected_at: impl Into<String>) -> Self {
        Snapshot {
            schema_version: SCHEMA_VERSION,
            collected_at: collected_at.into(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            source,
            organization: None,
            accounts: Vec::new(),
        }
    }

    /// Number of DB instances across all accounts and regions.
    pub fn db_instance_count(&self) -> usize {
        self.accounts
            .iter()
            .flat_map(|a| &a.regions)
            .map(|r| r.rds.db_instances.len())
            .sum()
    }
}

impl AccountSnapshot {
    pub fn region(&self, name: &str) -> Option<&RegionSnapshot> {
        self.regions.iter().find(|r| r.region == name)
    }
}

impl RegionSnapshot {
    pub fn new(region: impl Into<String>) -> Self {
        RegionSnapshot {
            region: region.into(),
            ..Default::default()
        }
    }

    /// The gap recorded for `op` in this region, either for the whole operation (no resource)
    /// or for the given resource.
    pub fn gap(&self, op: Op, resource: Option<&str>) -> Option<&Gap> {
        self.gaps.iter().find(|g| {
            g.service == op.service
                && g.operation == op.operation
                && (g.resource.is_none()
                    || resource.is_some_and(|r| g.resource.as_deref() == Some(r)))
        })
    }

    /// The gap that made the whole operation fail (not a per-resource one).
    pub fn listing_gap(&self, op: Op) -> Option<&Gap> {
        self.gaps.iter().find(|g| {
            g.service == op.service && g.operation == op.operation && g.resource.is_none()
        })
    }
}

impl AccountSnapshot {
    /// The gap recorded for a global operation (IAM, STS...).
    pub fn gap(&self, op: Op, resource: Option<&str>) -> Option<&Gap> {
        self.gaps.iter().find(|g| {
            g.service == op.service
                && g.operation == op.operation
                && (g.resource.is_none()
                    || resource.is_some_and(|r| g.resource.as_deref() == Some(r)))
        })
    }
}

/// `s.trim()`, answered without decoding characters when `s` begins and ends with a visible
/// ASCII character (as AWS values almost always do): the analysis trims values of every
/// resource (protocols, versions, dates), and `str::trim` decodes each end as Unicode.
#[inline]
pub fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x7f);
    if visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// Part `n` (from 0) of a colon-separated ARN, the last part running to the end: what
/// `arn.splitn(6, ':').nth(n)` gives, in one pass over the bytes before it, eight at a time
/// (read for every snapshot and every account a key policy names: a byte at a time was
/// ~400 instructions an ARN).
pub fn arn_part(arn: &str, n: usize) -> Option<&str> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each byte of `word` that is `:`, and of no other (no carries between
    // bytes: each byte's low seven bits are added apart).
    let colons = |word: u64| {
        let v = word ^ (ONES * u64::from(b':'));
        !(((v & LOW) + LOW) | v | LOW)
    };
    let (mut part, mut start) = (0, 0);
    // Each colon in turn; `Some` once the answer is known.
    let mut at_colon = |i: usize| -> Option<Option<&str>> {
        if part == n {
            return Some(arn.get(start..i));
        }
        part += 1;
        start = i + 1;
        // The sixth part runs to the end, colons and all.
        (part == 5).then(|| (n == 5).then(|| arn.get(start..)).flatten())
    };
    let bytes = arn.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let mut found = colons(u64::from_le_bytes(word));
        while found != 0 {
            let i = base + found.trailing_zeros() as usize / 8;
            found &= found - 1;
            if let Some(answer) = at_colon(i) {
                return answer;
            }
        }
        base += 8;
    }
    for (offset, &b) in chunks.remainder().iter().enumerate() {
        if b == b':'
            && let Some(answer) = at_colon(base + offset)
        {
            return answer;
        }
    }
    (part == n).then(|| arn.get(start..)).flatten()
}

/// The position of `item` in `items`, when it is one of its elements (by address, not by
/// value: a copy is not found). The checks and the network analysis key their per-region
/// tables by the position of a snapshot item they were handed by reference.
pub fn position_of<T>(items: &[T], item: &T) -> Option<usize> {
    let size = std::mem::size_of::<T>().max(1);
    let offset = (item as *const T as usize).wrapping_sub(items.as_ptr() as usize);
    let index = offset / size;
    (offset.is_multiple_of(size) && items.get(index).is_some_and(|i| std::ptr::eq(i, item)))
        .then_some(index)
}

#[cfg(test)]
mod arn_part_tests {
    proptest::proptest! {
        #[test]
        fn an_arn_part_is_the_split_one(arn in "[a:;bé9/]{0,40}", n in 0usize..8) {
            proptest::prop_assert_eq!(super::arn_part(&arn, n), arn.splitn(6, ':').nth(n));
        }
    }
}

#[cfg(test)]
mod position_tests {
    #[test]
    fn finds_elements_by_address_only() {
        let items = vec![String::from("a"), String::from("b"), String::from("b")];
        for (i, item) in items.iter().enumerate() {
            assert_eq!(super::position_of(&items, item), Some(i));
        }
        let copy = items[1].clone();
        assert_eq!(super::position_of(&items, &copy), None);
        assert_eq!(super::position_of(&items[..1], &items[2]), None);
        assert_eq!(super::position_of(&items[1..], &items[0]), None);
    }
}

#[cfg(test)]
mod trim_tests {
    #[test]
    fn trims_as_str_trim_does() {
        for s in [
            "",
            " ",
            "tcp",
            " tcp",
            "tcp ",
            "\ttcp\n",
            "\u{b}6\u{b}",
            "\u{85}-1",
            "-1\u{a0}",
            "\u{3000}udp\u{2003}",
            "é",
            " é ",
            "x\u{7f}",
            "\u{7f}",
            "a b",
            "\r\n",
        ] {
            assert_eq!(super::trim(s), s.trim(), "{s:?}");
        }
    }
}

/// The JSON Schema of the snapshot file, generated from these types (their doc comments are
/// the field descriptions). Committed as `docs/schemas/snapshot.schema.json`.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Snapshot)).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod schema_tests {
    /// The committed schema must match the types; regenerate with
    /// `UPDATE_SCHEMAS=1 cargo test -p rdsguard-model schema`.
    #[test]
    fn committed_schema_is_current() {
        // The directory cargo runs the test from (a test binary may have been built in
        // another checkout sharing the target directory), else the one it was built in.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        let path = manifest_dir.join("../../docs/schemas/snapshot.schema.json");
        let generated = serde_json::to_string_pretty(&super::json_schema()).unwrap() + "\n";
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/schemas/snapshot.schema.json is stale: run UPDATE_SCHEMAS=1 cargo test -p rdsguard-model schema"
        );
    }
}

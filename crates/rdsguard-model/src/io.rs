//! Reading, writing and merging snapshot files. Files are written with mode 0600 (they
//! describe an account's security posture) and read with a schema-version check, so a snapshot
//! from an incompatible version is refused instead of misread.
//!
//! Both directions stream: the writer serialises straight into a buffered file (gzip-compressed
//! when the name ends in `.gz`) and the reader deserialises from a buffered reader (gzip
//! recognised by its magic bytes, whatever the name), so a snapshot of thousands of accounts
//! never exists twice in memory (once as text, once as values).

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::{AccountSnapshot, OrganizationData, SCHEMA_VERSION, Snapshot};
#[derive(Debug, thiserror::Error)]
pub enum SnapshotIoError {
    #[error("cannot read snapshot {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write snapshot {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid rdsguard snapshot (line {line}, column {column}): {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path} has snapshot schema version {found}, this rdsguard reads version {expected}; \
         re-collect it with this version"
    )]
    Version {
        path: PathBuf,
        found: u64,
        expected: u32,
    },
}

/// Parse a snapshot from JSON text, checking the schema version first so that an old snapshot
/// gets a version error rather than a confusing missing-field error.
pub fn from_json_str(text: &str, path: &Path) -> Result<Snapshot, SnapshotIoError> {
    from_reader(text.as_bytes(), path)
}

/// Bytes of the (decompressed) start of a file searched for `schema_version`; writers put it
/// first, so it is always there for snapshots rdsguard wrote.
const VERSION_PROBE_LEN: usize = 64 * 1024;
const READ_BUFFER: usize = 256 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How a snapshot's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Whole, then parsed: serde_json parses a slice several times faster than a stream (which
    /// it takes byte by byte). The text is freed once parsed: commands that analyse the
    /// snapshot need more memory afterwards than text and values together.
    Whole,
    /// Streamed: memory holds the values, never the text as well (for `merge`, whose peak
    /// would otherwise be the text of its largest input).
    Streamed,
}

/// Parse a snapshot from a reader of JSON (plain or gzip, recognised by its magic bytes), read
/// [`Reading::Whole`].
pub fn from_reader(reader: impl Read, path: &Path) -> Result<Snapshot, SnapshotIoError> {
    from_reader_as(reader, path, Reading::Whole)
}

/// [`from_reader`], reading as `reading` says.
pub fn from_reader_as(
    reader: impl Read,
    path: &Path,
    reading: Reading,
) -> Result<Snapshot, SnapshotIoError> {
    let rerr = |source| SnapshotIoError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut raw = BufReader::with_capacity(READ_BUFFER, reader);
    let gzip = raw.fill_buf().map_err(rerr)?.starts_with(&GZIP_MAGIC);
    let plain: Box<dyn Read + '_> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut plain = BufReader::with_capacity(READ_BUFFER, plain);
    check_version_prefix(&mut plain, path)?;
    let parsed: Result<Snapshot, serde_json::Error> = match reading {
        Reading::Whole => {
            let mut text = Vec::new();
            plain.read_to_end(&mut text).map_err(rerr)?;
            serde_json::from_slice(&text)
        }
        Reading::Streamed => serde_json::from_reader(&mut plain),
    };
    let snapshot = parsed.map_err(|e| {
        if e.is_io() {
            SnapshotIoError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            }
        } else {
            SnapshotIoError::Parse {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            }
        }
    })?;
    if snapshot.schema_version != SCHEMA_VERSION {
        return Err(SnapshotIoError::Version {
            path: path.to_path_buf(),
            found: u64::from(snapshot.schema_version),
            expected: SCHEMA_VERSION,
        });
    }
    Ok(snapshot)
}

/// Refuse another schema version before parsing the rest: its fields may not parse at all.
/// Looks at the start of the text without consuming it.
fn check_version_prefix(reader: &mut impl BufRead, path: &Path) -> Result<(), SnapshotIoError> {
    let prefix = reader.fill_buf().map_err(|source| SnapshotIoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let prefix = &prefix[..prefix.len().min(VERSION_PROBE_LEN)];
    if let Some(found) = find_schema_version(prefix)
        && found != u64::from(SCHEMA_VERSION)
    {
        return Err(SnapshotIoError::Version {
            path: path.to_path_buf(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// The number after the first `"schema_version":` in `bytes`, if any.
fn find_schema_version(bytes: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"schema_version\"";
    let at = bytes.windows(KEY.len()).position(|w| w == KEY)?;
    let rest = &bytes[at + KEY.len()..];
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// Read a snapshot file (`.json`, or gzip-compressed JSON under any name).
pub fn read_snapshot(path: &Path) -> Result<Snapshot, SnapshotIoError> {
    read_snapshot_as(path, Reading::Whole)
}

/// [`read_snapshot`], reading as `reading` says.
pub fn read_snapshot_as(path: &Path, reading: Reading) -> Result<Snapshot, SnapshotIoError> {
    let file = fs::File::open(path).map_err(|source| SnapshotIoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    from_reader_as(file, path, reading)
}

/// Whether `path` names a compressed snapshot (`.gz`): written gzip-compressed, compact.
pub fn is_gzip_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Write a snapshot file with mode 0600, atomically (temporary file + rename) so a crash never
/// leaves a truncated snapshot behind. A name ending in `.gz` is written gzip-compressed and
/// compact; anything else as indented JSON.
pub fn write_snapshot(snapshot: &Snapshot, path: &Path) -> Result<(), SnapshotIoError> {
    let werr = |source| SnapshotIoError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let written = (|| -> std::io::Result<()> {
        let file = create_private(&tmp)?;
        let buffered = BufWriter::with_capacity(READ_BUFFER, file);
        if is_gzip_path(path) {
            let mut gz = flate2::write::GzEncoder::new(buffered, flate2::Compression::fast());
            serde_json::to_writer(&mut gz, snapshot).map_err(std::io::Error::other)?;
            gz.write_all(b"\n")?;
            gz.finish()?.flush()
        } else {
            let mut w = buffered;
            serde_json::to_writer_pretty(&mut w, snapshot).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
            w.flush()
        }
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(werr(e));
    }
    fs::rename(&tmp, path).map_err(werr)
}

/// Why snapshots cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give at least one snapshot")]
    NoInputs,
    #[error(
        "{path} has snapshot schema version {found} but {first} has {expected}; re-collect \
         them with the same rdsguard version"
    )]
    SchemaMismatch {
        path: PathBuf,
        found: u32,
        first: PathBuf,
        expected: u32,
    },
    #[error(
        "account {account_id} is in both {first} and {second} with different data (two \
         collections of the same account); merge shards of one run only, or drop one of the files"
    )]
    ConflictingAccount {
        account_id: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "{first} is from organization {first_org} but {second} from organization {second_org}; \
         merge snapshots of one organization only"
    )]
    OrganizationMismatch {
        first: PathBuf,
        first_org: String,
        second: PathBuf,
        second_org: String,
    },
    #[error(
        "policy {policy_id} differs between {first} and {second} (the policy changed between \
         collections); re-collect the shards in one run"
    )]
    ConflictingPolicy {
        policy_id: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// Join snapshots (the shards of one organization scan, or single-account snapshots) into one.
/// See [`Merger`] for the rules; this is `Merger::add` for each input, then `finish`.
pub fn merge(
    inputs: impl IntoIterator<Item = (PathBuf, Snapshot)>,
) -> Result<Snapshot, MergeError> {
    let mut merger = Merger::default();
    for (path, snapshot) in inputs {
        merger.add(path, snapshot)?;
    }
    merger.finish()
}

/// Joins snapshots one at a time, so a caller reading files holds only the result and the
/// file being added.
///
/// All inputs must have the same schema version. Accounts are taken from every input, in input
/// order; the same account in two inputs is accepted only when both copies are identical.
/// Organization data is unioned (policies by id, gaps deduplicated); the source regions are
/// unioned; `collected_at` is the earliest of the inputs (checks that depend on time then judge
/// as of the oldest data). Errors name the files involved.
#[derive(Default)]
pub struct Merger {
    out: Option<(PathBuf, Snapshot)>,
    /// account id -> (index in the result's accounts, file it came from)
    seen: std::collections::HashMap<String, (usize, PathBuf)>,
    org_from: Option<PathBuf>,
}

impl Merger {
    pub fn add(&mut self, path: PathBuf, snap: Snapshot) -> Result<(), MergeError> {
        let Some((first_path, out)) = &mut self.out else {
            for (i, a) in snap.accounts.iter().enumerate() {
                if self.seen.contains_key(&a.account_id) {
                    continue;
                }
                self.seen.insert(a.account_id.clone(), (i, path.clone()));
            }
            self.org_from = snap.organization.as_ref().map(|_| path.clone());
            self.out = Some((path, snap));
            return Ok(());
        };
        if snap.schema_version != out.schema_version {
            return Err(MergeError::SchemaMismatch {
                path,
                found: snap.schema_version,
                first: first_path.clone(),
                expected: out.schema_version,
            });
        }
        if snap.collected_at < out.collected_at {
            out.collected_at = snap.collected_at;
        }
        for region in snap.source.regions {
            if !out.source.regions.contains(&region) {
                out.source.regions.push(region);
            }
        }
        if out.source.endpoint_url.is_none() {
            out.source.endpoint_url = snap.source.endpoint_url;
        }
        if let Some(org) = snap.organization {
            match (&mut out.organization, &self.org_from) {
                (Some(existing), Some(existing_path)) => {
                    merge_organization(existing, existing_path, org, &path)?;
                }
                _ => {
                    out.organization = Some(org);
                    self.org_from = Some(path.clone());
                }
            }
        }
        for account in snap.accounts {
            push_account(&mut out.accounts, &mut self.seen, account, &path)?;
        }
        Ok(())
    }

    /// The merged snapshot.
    pub fn finish(self) -> Result<Snapshot, MergeError> {
        self.out.map(|(_, s)| s).ok_or(MergeError::NoInputs)
    }
}

fn push_account(
    accounts: &mut Vec<AccountSnapshot>,
    seen: &mut std::collections::HashMap<String, (usize, PathBuf)>,
    account: AccountSnapshot,
    path: &Path,
) -> Result<(), MergeError> {
    match seen.get(&account.account_id) {
        // The same account in two shards (a retried shard): harmless when identical.
        Some((i, _)) if accounts[*i] == account => Ok(()),
        Some((_, first)) => Err(MergeError::ConflictingAccount {
            account_id: account.account_id,
            first: first.clone(),
            second: path.to_path_buf(),
        }),
        None => {
            seen.insert(
                account.account_id.clone(),
                (accounts.len(), path.to_path_buf()),
            );
            accounts.push(account);
            Ok(())
        }
    }
}

fn merge_organization(
    into: &mut OrganizationData,
    into_path: &Path,
    from: OrganizationData,
    from_path: &Path,
) -> Result<(), MergeError> {
    if into.id != from.id {
        return Err(MergeError::OrganizationMismatch {
            first: into_path.to_path_buf(),
            first_org: into.id.clone(),
            second: from_path.to_path_buf(),
            second_org: from.id,
        });
    }
    into.arn = into.arn.take().or(from.arn);
    into.management_account_id = into
        .management_account_id
        .take()
        .or(from.management_account_id);
    for t in from.enabled_policy_types {
        if !into.enabled_policy_types.contains(&t) {
            into.enabled_policy_types.push(t);
        }
    }
    for policy in from.policies {
        match into.policies.iter_mut().find(|p| p.id == policy.id) {
            None => into.policies.push(policy),
            Some(existing) => {
                // One shard may have failed DescribePolicy (content None, with a gap): take
                // the content from the other. Two different documents are a real conflict.
                if existing.content.is_none() {
                    existing.content = policy.content;
                } else if policy.content.is_some() && existing.content != policy.content {
                    return Err(MergeError::ConflictingPolicy {
                        policy_id: policy.id,
                        first: into_path.to_path_buf(),
                        second: from_path.to_path_buf(),
                    });
                }
            }
        }
    }
    for gap in from.gaps {
        if !into.gaps.contains(&gap) {
            into.gaps.push(gap);
        }
    }
    Ok(())
}

/// Create (or truncate) a file readable only by its owner.
pub fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(path)?;
    // An existing file keeps its old mode under `open`: tighten it explicitly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountSnapshot, RegionSnapshot, SnapshotSource};

    fn sample() -> Snapshot {
        let mut s = Snapshot::new(
            SnapshotSource {
                kind: "demo".into(),
                endpoint_url: None,
                regions: vec!["us-east-1".into()],
            },
            "2026-01-01T00:00:00Z",
        );
        s.accounts.push(AccountSnapshot {
            account_id: "123456789012".into(),
            partition: "aws".into(),
            iam: None,
            regions: vec![RegionSnapshot::new("us-east-1")],
            gaps: vec![],
            ..Default::default()
        });
        s
    }

    #[test]
    fn round_trip_and_private_mode() {
        let dir = std::env::temp_dir().join(format!("rdsguard-model-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("snap.json");
        write_snapshot(&sample(), &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(read_snapshot(&path).unwrap(), sample());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn truncated_snapshot_is_a_located_error() {
        let text = serde_json::to_string_pretty(&sample()).unwrap();
        let cut = &text[..text.len() / 2];
        let err = from_json_str(cut, Path::new("x.json")).unwrap_err();
        assert!(
            matches!(err, SnapshotIoError::Parse { line, .. } if line > 1),
            "{err}"
        );
    }

    /// A compressed snapshot cut short (an interrupted copy) is a read error naming the file,
    /// never a partial snapshot.
    #[test]
    fn truncated_gzip_snapshot_is_a_read_error() {
        let dir = tempdir("gzcut");
        let gz = dir.join("snap.json.gz");
        write_snapshot(&sample(), &gz).unwrap();
        let bytes = fs::read(&gz).unwrap();
        let cut = dir.join("cut.json.gz");
        fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        for reading in [Reading::Whole, Reading::Streamed] {
            let err = read_snapshot_as(&cut, reading).unwrap_err();
            assert!(matches!(err, SnapshotIoError::Read { .. }), "{err}");
            assert!(err.to_string().contains("cut.json.gz"), "{err}");
            assert_eq!(read_snapshot_as(&gz, reading).unwrap(), sample());
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn gzip_round_trip_by_extension_and_magic() {
        let dir = tempdir("gz");
        let gz = dir.join("snap.json.gz");
        write_snapshot(&sample(), &gz).unwrap();
        let bytes = fs::read(&gz).unwrap();
        assert_eq!(&bytes[..2], &GZIP_MAGIC, "a .gz name is written compressed");
        assert_eq!(read_snapshot(&gz).unwrap(), sample());
        // Compressed content under a plain name is still recognised.
        let renamed = dir.join("renamed.json");
        fs::rename(&gz, &renamed).unwrap();
        assert_eq!(read_snapshot(&renamed).unwrap(), sample());
        assert!(!dir.join("snap.json.gz.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    fn tempdir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "rdsguard-model-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn account(id: &str) -> AccountSnapshot {
        AccountSnapshot {
            account_id: id.into(),
            partition: "aws".into(),
            regions: vec![RegionSnapshot::new("us-east-1")],
            ..Default::default()
        }
    }

    fn org_snapshot(collected_at: &str, accounts: &[&str], policy: (&str, &str)) -> Snapshot {
        let mut s = sample();
        s.collected_at = collected_at.into();
        s.accounts = accounts.iter().map(|a| account(a)).collect();
        s.organization = Some(OrganizationData {
            id: "o-abc".into(),
            enabled_policy_types: vec![crate::SERVICE_CONTROL_POLICY.into()],
            policies: vec![crate::OrgPolicy {
                id: policy.0.into(),
                policy_type: crate::SERVICE_CONTROL_POLICY.into(),
                content: Some(policy.1.into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        s
    }

    #[test]
    fn merge_joins_accounts_unions_policies_and_keeps_earliest_time() {
        let a = org_snapshot("2026-01-02T00:00:00Z", &["111111111111"], ("p-1", "{}"));
        let mut b = org_snapshot(
            "2026-01-01T00:00:00Z",
            &["222222222222", "111111111111"],
            ("p-2", "{\"x\":1}"),
        );
        b.source.regions = vec!["eu-west-1".into()];
        let merged = merge([("a.json".into(), a), ("b.json".into(), b)]).unwrap();
        let ids: Vec<&str> = merged
            .accounts
            .iter()
            .map(|a| a.account_id.as_str())
            .collect();
        assert_eq!(ids, ["111111111111", "222222222222"]);
        assert_eq!(merged.collected_at, "2026-01-01T00:00:00Z");
        assert_eq!(merged.source.regions, ["us-east-1", "eu-west-1"]);
        let org = merged.organization.unwrap();
        let policies: Vec<&str> = org.policies.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(policies, ["p-1", "p-2"]);
    }

    #[test]
    fn merge_refuses_conflicts_with_the_files_named() {
        let a = org_snapshot("t", &["111111111111"], ("p-1", "{}"));
        let mut b = org_snapshot("t", &["111111111111"], ("p-1", "{}"));
        b.accounts[0].name = Some("changed".into());
        let err = merge([("a.json".into(), a.clone()), ("b.json".into(), b)]).unwrap_err();
        assert!(
            matches!(&err, MergeError::ConflictingAccount { account_id, .. } if account_id == "111111111111"),
            "{err}"
        );
        assert!(err.to_string().contains("a.json") && err.to_string().contains("b.json"));

        let mut other_version = a.clone();
        other_version.schema_version = SCHEMA_VERSION + 1;
        let err = merge([
            ("a.json".into(), a.clone()),
            ("c.json".into(), other_version),
        ]);
        assert!(matches!(err, Err(MergeError::SchemaMismatch { .. })));

        let mut other_org = org_snapshot("t", &["333333333333"], ("p-1", "{}"));
        other_org.organization.as_mut().unwrap().id = "o-other".into();
        let err = merge([("a.json".into(), a.clone()), ("d.json".into(), other_org)]);
        assert!(matches!(err, Err(MergeError::OrganizationMismatch { .. })));

        let changed_policy = org_snapshot("t", &["444444444444"], ("p-1", "{\"v\":2}"));
        let err = merge([("a.json".into(), a), ("e.json".into(), changed_policy)]);
        assert!(matches!(err, Err(MergeError::ConflictingPolicy { .. })));
        assert!(matches!(merge(Vec::new()), Err(MergeError::NoInputs)));
    }

    #[test]
    fn other_schema_version_is_refused() {
        let text = serde_json::to_string(&sample())
            .unwrap()
            .replace("\"schema_version\":1", "\"schema_version\":99");
        let err = from_json_str(&text, Path::new("x.json")).unwrap_err();
        assert!(
            matches!(err, SnapshotIoError::Version { found: 99, .. }),
            "{err}"
        );
    }
}

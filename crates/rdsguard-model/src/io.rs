//! Reading and writing snapshot files. Files are written with mode 0600 (they describe an
//! account's security posture) and read with a schema-version check, so a snapshot from an
//! incompatible version is refused instead of misread.

use std::fs;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{SCHEMA_VERSION, Snapshot};

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
    let parse_err = |e: serde_json::Error| SnapshotIoError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    };
    #[derive(serde::Deserialize)]
    struct VersionOnly {
        schema_version: Option<u64>,
    }
    let v: VersionOnly = serde_json::from_str(text).map_err(parse_err)?;
    match v.schema_version {
        Some(found) if found == u64::from(SCHEMA_VERSION) => {}
        Some(found) => {
            return Err(SnapshotIoError::Version {
                path: path.to_path_buf(),
                found,
                expected: SCHEMA_VERSION,
            });
        }
        None => {
            return Err(SnapshotIoError::Parse {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: "missing `schema_version`".into(),
            });
        }
    }
    serde_json::from_str(text).map_err(parse_err)
}

/// Read a snapshot file.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, SnapshotIoError> {
    let file = fs::File::open(path).map_err(|source| SnapshotIoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut BufReader::new(file), &mut text).map_err(|source| {
        SnapshotIoError::Read {
            path: path.to_path_buf(),
            source,
        }
    })?;
    from_json_str(&text, path)
}

/// Write a snapshot file with mode 0600, atomically (temporary file + rename) so a crash never
/// leaves a truncated snapshot behind.
pub fn write_snapshot(snapshot: &Snapshot, path: &Path) -> Result<(), SnapshotIoError> {
    let werr = |source| SnapshotIoError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("json.tmp");
    {
        let file = create_private(&tmp).map_err(werr)?;
        let mut w = BufWriter::new(file);
        serde_json::to_writer_pretty(&mut w, snapshot)
            .map_err(|e| werr(std::io::Error::other(e)))?;
        w.write_all(b"\n").map_err(werr)?;
        w.flush().map_err(werr)?;
    }
    fs::rename(&tmp, path).map_err(werr)
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

//! Who did what to our databases? A streaming CloudTrail scanner.
//!
//! [`scan()`] reads CloudTrail logs (S3 delivery files `{"Records":[...]}` as `.json` or
//! `.json.gz`, multi-member gzip, bare arrays, one event per line with or without an
//! EventBridge `detail` envelope; directories are walked recursively), fans the files out
//! across threads, and runs on each event:
//! - the built-in detections for risky RDS, KMS, EC2 security-group, CloudTrail and identity
//!   events (see [`builtin_detections`]);
//! - the Sigma rules found in [`TrailOptions::sigma_dirs`], evaluated natively.
//!
//! It returns findings in the shared model (`rdsguard-findings`), a summary of activity by
//! principal, API call and hour, statistics, the inputs that could not be read (an error per
//! input; scanning goes on) and the Sigma rules that could not be used (an error per rule).
//!
//! Speed: records are parsed straight from the decompression buffer, extracting only the
//! fields the detections and rules read (see `extract`); memory per thread is bounded by
//! the read buffer and the largest record, whatever the size of the corpus.
//!
//! For sources other than local files (S3 objects), build a [`Scanner`] once, give each
//! worker thread an [`Accumulator`], call [`Scanner::scan_reader`] per object and
//! [`Scanner::finish`] at the end.

mod collect;
mod detect;
mod event;
mod extract;
mod reader;
mod scan;
mod sigma;
mod summary;
mod timefmt;

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use rdsguard_findings::{CheckMetadata, Finding, Report};
use serde::Serialize;
use time::OffsetDateTime;

pub use collect::EventRecord;
pub use reader::ReadError;
pub use scan::{Accumulator, Scanner};
pub use sigma::RuleProblem;
pub use summary::{OTHER as SUMMARY_OTHER, SummaryCounts, TrailSummary, render_summary_table};
pub use timefmt::{Instant, parse_event_time};

/// Database ports checked by the security-group detection by default: MySQL/MariaDB/Aurora
/// MySQL, PostgreSQL/Aurora PostgreSQL, SQL Server (and its browser), Oracle (listener and
/// TLS listener ports), Db2.
pub const DEFAULT_DB_PORTS: [u16; 8] = [3306, 5432, 1433, 1434, 1521, 2483, 2484, 50000];

/// Scan settings.
#[derive(Debug, Clone)]
pub struct TrailOptions {
    /// Only events at or after this time (inclusive).
    pub since: Option<OffsetDateTime>,
    /// Only events before this time (exclusive).
    pub until: Option<OffsetDateTime>,
    /// Accounts a snapshot may be shared with without a finding (the accounts whose logs are
    /// scanned, i.e. every `recipientAccountId` seen, are trusted too).
    pub trusted_accounts: Vec<String>,
    /// Denied calls by one principal within `burst_window` that make a burst.
    pub burst_threshold: u32,
    pub burst_window: Duration,
    /// Directories (or files) of Sigma rules to load.
    pub sigma_dirs: Vec<PathBuf>,
    /// Worker threads for [`scan()`]; 0 means one per available core.
    pub threads: usize,
    /// Ports the security-group detection treats as database ports.
    pub db_ports: Vec<u16>,
    /// Events kept as evidence per finding (all are counted).
    pub max_events_per_finding: usize,
    /// Largest single record accepted; a larger one makes its input fail (bounds memory).
    pub max_record_bytes: usize,
}

impl Default for TrailOptions {
    fn default() -> Self {
        TrailOptions {
            since: None,
            until: None,
            trusted_accounts: Vec::new(),
            burst_threshold: 20,
            burst_window: Duration::from_secs(600),
            sigma_dirs: Vec::new(),
            threads: 0,
            db_ports: DEFAULT_DB_PORTS.to_vec(),
            max_events_per_finding: 50,
            max_record_bytes: 64 << 20,
        }
    }
}

/// Errors that stop a scan before it starts (bad options, unreadable rule directory).
/// Problems with individual inputs or rules never stop a scan: they are collected in
/// [`TrailResult::skipped_inputs`] and [`TrailResult::rule_problems`].
#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("invalid time `{value}`: expected RFC 3339, e.g. 2024-01-31T00:00:00Z")]
    InvalidTime { value: String },
    #[error("cannot read Sigma rules in {}: {source}", path.display())]
    SigmaDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Parses a `--since`/`--until` value (RFC 3339).
pub fn parse_time_bound(value: &str) -> Result<OffsetDateTime, TrailError> {
    OffsetDateTime::parse(value.trim(), &time::format_description::well_known::Rfc3339).map_err(
        |_| TrailError::InvalidTime {
            value: value.to_string(),
        },
    )
}

/// An input that could not be read, or only partly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedInput {
    /// File path or object name.
    pub input: String,
    pub reason: String,
    /// Records read (and scanned) before the error.
    pub records_before_error: u64,
}

/// Volume scanned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrailStats {
    /// Inputs opened (files or objects), including those that failed part-way.
    pub files: u64,
    /// Inputs with an error (see `skipped_inputs`).
    pub files_skipped: u64,
    /// Files left out of directory walks (not named like logs, CloudTrail-Digest folders).
    pub files_ignored: u64,
    /// JSON values read (events and anything else).
    pub records: u64,
    /// CloudTrail events scanned (in the time range).
    pub events: u64,
    pub events_out_of_range: u64,
    /// Events whose eventTime is missing or unreadable (left out only when a time range is
    /// set).
    pub events_without_time: u64,
    /// JSON values that are not CloudTrail events (no eventName nor eventSource).
    pub non_cloudtrail_records: u64,
    /// CloudTrail digest files' records (integrity digests, not events).
    pub digest_records: u64,
    /// Bytes of JSON after decompression.
    pub bytes_uncompressed: u64,
    /// Bytes read from the inputs (compressed size for .gz).
    pub bytes_read: u64,
}

/// Everything a scan produced.
#[derive(Debug, Clone, Serialize)]
pub struct TrailResult {
    /// One finding per (detection, resource, account, region), status FAIL, sorted.
    pub findings: Vec<Finding>,
    /// Metadata of every detection that ran: built-ins, then the loaded Sigma rules.
    pub detections: Vec<CheckMetadata>,
    pub skipped_inputs: Vec<SkippedInput>,
    /// Sigma rules that were not loaded, with the reason or unsupported feature.
    pub rule_problems: Vec<RuleProblem>,
    pub summary: TrailSummary,
    pub stats: TrailStats,
    /// Accounts (recipientAccountId) and regions seen in range.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

impl TrailResult {
    /// True when some input could not be read in full (the CLI turns this into an exit code).
    pub fn input_skipped(&self) -> bool {
        !self.skipped_inputs.is_empty()
    }

    /// The findings as a report of kind `trail`.
    pub fn report(&self, collected_at: String) -> Report {
        Report::new(
            "trail",
            collected_at,
            self.accounts.clone(),
            self.regions.clone(),
            self.detections.clone(),
            self.findings.clone(),
        )
    }
}

/// Metadata of the built-in detections.
pub fn builtin_detections() -> Vec<CheckMetadata> {
    detect::catalogue()
}

/// Parses and compiles one Sigma rule (YAML text) without scanning anything: its metadata,
/// or why it cannot be used. `name` labels the problem when the rule has no id.
pub fn validate_sigma_rule(text: &str, name: &str) -> Result<CheckMetadata, RuleProblem> {
    let mut plan = extract::FieldPlan::default();
    sigma::compile_rule_text(text, std::path::Path::new(name), &mut plan).map(|r| r.meta)
}

/// Scans files and directories (walked recursively) with all built-in detections and the
/// Sigma rules of `opts.sigma_dirs`.
pub fn scan(inputs: &[PathBuf], opts: &TrailOptions) -> Result<TrailResult, TrailError> {
    Ok(Scanner::new(opts)?.scan_paths(inputs))
}

/// Scans one stream (gzip-compressed or not) named `name`.
pub fn scan_reader(
    name: &str,
    reader: impl Read,
    opts: &TrailOptions,
) -> Result<TrailResult, TrailError> {
    let scanner = Scanner::new(opts)?;
    let mut acc = scanner.accumulator();
    scanner.scan_reader(&mut acc, name, reader);
    Ok(scanner.finish(vec![acc]))
}

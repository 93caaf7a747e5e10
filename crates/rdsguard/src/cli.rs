//! Command-line definitions. Kept apart from the command code so `--help` is reviewable in one
//! place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rdsguard_findings::Severity;

#[derive(Debug, Parser)]
#[command(
    name = "rdsguard",
    version,
    about = "Exact, fast security audits of Amazon RDS databases",
    long_about = "rdsguard answers the security questions people ask about their Amazon RDS \
                  databases (who can change them, which addresses reach them, are they \
                  encrypted with a key you control, is TLS enforced, who touched them) and \
                  fixes what it finds, safely.",
    after_help = "Exit codes: 0 success; 1 findings at or above --fail-on (or not-assessed \
                  results with --fail-on-not-assessed); 2 usage or runtime error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate every check on a live account, a snapshot file or the bundled demo account.
    Audit(AuditArgs),
    /// Collect a snapshot of everything RDS security depends on and write it to a file.
    Collect(CollectArgs),
    /// List the check catalogue with severities and CIS / FSBP controls.
    Checks(ChecksArgs),
    /// Which addresses can reach each database: security groups, routes, NACLs, IPv6, peering.
    Exposure(ExposureArgs),
    /// Scan CloudTrail logs (.json, .json.gz, one event a line) for risky or unauthorized
    /// RDS, KMS, EC2 and CloudTrail activity, with built-in detections and Sigma rules.
    Trail(TrailArgs),
    /// Which principals can perform an action on a database, snapshot or KMS key (IAM
    /// identity policies, groups, boundaries and key policies, evaluated exactly).
    WhoCan(WhoCanArgs),
    /// Explain one IAM decision, like the IAM policy simulator.
    Can(CanArgs),
    /// IAM tools: batch simulation and least-privilege policy generation.
    #[command(subcommand)]
    Iam(IamCommand),
    /// Compare two JSON reports: new, resolved and unchanged failures (drift).
    Diff(crate::commands::diff::DiffArgs),
    /// Join snapshots (the shards of `collect --org --shard I/N`) into one.
    Merge(crate::commands::merge::MergeArgs),
    /// Plan the exact AWS calls that fix failing findings; apply them with --apply (journaled,
    /// resumable with --resume, never deleting anything).
    Fix(Box<crate::commands::fix::FixArgs>),
}

/// Where the data comes from: a live account (the default), a snapshot file, or the demo.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// Evaluate a snapshot written by `rdsguard collect` instead of collecting live.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    pub snapshot: Option<PathBuf>,
    /// Use the bundled demo account (a realistic account with realistic problems).
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Boxed: the flags are many and rarely used, and `SourceArgs` is in several enum variants.
    #[command(flatten)]
    pub org: Box<OrgArgs>,
}

/// Organization scanning flags (`--org`), for the commands that collect a snapshot.
#[derive(Debug, Args, Clone, Default)]
pub struct OrgArgs {
    /// Scan every ACTIVE account of the AWS Organization: run with credentials of the
    /// management account or a delegated administrator; each member account is read through
    /// the role --role-name (the caller's own account with its own credentials).
    #[arg(long, help_heading = "Organization")]
    pub org: bool,
    /// Role assumed in each member account.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "OrganizationAccountAccessRole",
        requires = "org",
        help_heading = "Organization"
    )]
    pub role_name: String,
    /// External id the member roles' trust policy requires.
    #[arg(
        long,
        value_name = "ID",
        env = "RDSGUARD_EXTERNAL_ID",
        requires = "org",
        help_heading = "Organization"
    )]
    pub external_id: Option<String>,
    /// Only these account ids (comma-separated; repeatable).
    #[arg(
        long,
        value_name = "ID,...",
        value_delimiter = ',',
        requires = "org",
        help_heading = "Organization"
    )]
    pub accounts: Vec<String>,
    /// Only the account ids in FILE (one a line; `#` starts a comment).
    #[arg(
        long,
        value_name = "FILE",
        requires = "org",
        help_heading = "Organization"
    )]
    pub accounts_file: Option<PathBuf>,
    /// Never these account ids (comma-separated; repeatable).
    #[arg(
        long,
        value_name = "ID,...",
        value_delimiter = ',',
        requires = "org",
        help_heading = "Organization"
    )]
    pub exclude: Vec<String>,
    /// Collect only shard I of N (0-based): the accounts whose id modulo N is I. Shards are
    /// disjoint and stable when accounts are added; join them with `rdsguard merge`.
    #[arg(
        long,
        value_name = "I/N",
        value_parser = parse_shard,
        requires = "org",
        help_heading = "Organization"
    )]
    pub shard: Option<(u64, u64)>,
    /// Accounts collected at the same time (they share --concurrency requests in flight).
    #[arg(long, default_value_t = 8, help_heading = "Organization")]
    pub account_concurrency: usize,
    /// Seconds one account may take; past it the account is reported NOT_ASSESSED.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1800,
        help_heading = "Organization"
    )]
    pub account_timeout: u64,
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let usage = || format!("expected I/N with 0 <= I < N (e.g. 0/4), got {s:?}");
    let (i, n) = s.split_once('/').ok_or_else(usage)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| usage())?,
        n.trim().parse().map_err(|_| usage())?,
    );
    if n == 0 || i >= n {
        return Err(usage());
    }
    Ok((i, n))
}

/// Live collection flags, shared by every command that can talk to AWS.
#[derive(Debug, Args, Clone, Default)]
pub struct LiveArgs {
    /// AWS profile from ~/.aws/config (SSO and assume-role profiles work).
    #[arg(long, env = "AWS_PROFILE", help_heading = "Live collection")]
    pub profile: Option<String>,
    /// Region to collect (repeatable). Default: the profile's or AWS_REGION.
    #[arg(
        long = "region",
        value_name = "REGION",
        help_heading = "Live collection"
    )]
    pub regions: Vec<String>,
    /// Collect every region enabled in the account.
    #[arg(long, conflicts_with = "regions", help_heading = "Live collection")]
    pub all_regions: bool,
    /// Send every AWS call to this endpoint (emulators, compatible endpoints).
    #[arg(
        long,
        value_name = "URL",
        env = "RDSGUARD_ENDPOINT_URL",
        help_heading = "Live collection"
    )]
    pub endpoint_url: Option<String>,
    /// Maximum AWS requests in flight.
    #[arg(long, default_value_t = 16, help_heading = "Live collection")]
    pub concurrency: usize,
    /// Attempts per AWS call (adaptive retry with backoff).
    #[arg(long, default_value_t = 5, help_heading = "Live collection")]
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Configuration file (thresholds, trusted accounts, suppressions). Default: ./rdsguard.toml
    /// when it exists (the demo uses its bundled configuration).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Format on standard output, and for `-o` files whose extension says nothing: table,
    /// json, jsonl, csv, sarif, asff, ocsf, junit, markdown, html. Default: table.
    #[arg(long, value_name = "FORMAT", value_parser = parse_report_format)]
    pub format: Option<rdsguard_report::Format>,
    /// Write the report to FILE (mode 0600), in the format its extension names (.json .jsonl
    /// .csv .sarif .asff.json .ocsf.json .xml .md .html .txt) or as FORMAT:FILE; `-` is
    /// standard output. Repeatable: `-o report.html -o findings.sarif`. With any -o, only `-`
    /// writes to standard output.
    #[arg(short, long = "output", value_name = "[FORMAT:]FILE")]
    pub outputs: Vec<rdsguard_report::OutputSpec>,
    /// Group results by compliance control with pass rates: cis-aws-foundations[:vX.Y.Z] or
    /// fsbp. The table and JSON outputs become the compliance view; Markdown and HTML add it.
    #[arg(long, value_name = "FRAMEWORK", value_parser = parse_framework)]
    pub compliance: Option<rdsguard_report::Framework>,
    /// Custom checks in Rego: a .rego file or a directory of them (repeatable). See
    /// docs/custom-checks.md.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Exit with code 1 when a failing finding has at least this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Exit with code 1 when any result is NOT_ASSESSED (strict audits).
    #[arg(long)]
    pub fail_on_not_assessed: bool,
    /// Only run these checks (repeatable; `*` wildcards allowed).
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// List passing and not-applicable results too, every resource of each check (the table
    /// otherwise lists the first 25 per check and counts the rest) and whole messages (table
    /// format).
    #[arg(long)]
    pub show_all: bool,
    /// Also import the results of the audited account (FAIL, PASS and the others) as ASFF
    /// findings into AWS Security Hub (BatchImportFindings, 100 at a time) in the first
    /// --region, else the default region, with the live credentials. Needs the `live` feature.
    /// Exit code 2 if any finding is not imported.
    #[arg(long)]
    pub to_security_hub: bool,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub org: OrgArgs,
    /// Snapshot file to write (mode 0600); a name ending in .gz is written gzip-compressed.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExposureArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Only this database (DB instance, cluster or proxy identifier, or ARN).
    #[arg(long, value_name = "ID|ARN")]
    pub db: Option<String>,
    /// Output format (the JSON schema is documented in crates/rdsguard-network/EXPOSURE_JSON.md).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write to a file (mode 0600) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 success; 1 findings at or above --fail-on; 2 usage or \
                        runtime error; 3 some input could not be read (the rest was scanned)."
)]
pub struct TrailArgs {
    /// Log files or directories (walked recursively), or s3://bucket/prefix URIs.
    #[arg(required = true, value_name = "PATH|S3_URI")]
    pub inputs: Vec<PathBuf>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Sigma rules: a directory or a .yml file (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Accounts snapshots may be shared with (comma-separated; added to the config file's
    /// trusted_accounts; the scanned accounts are always trusted).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub trusted_accounts: Vec<String>,
    /// Configuration file (trusted_accounts). Default: ./rdsguard.toml when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Denied calls by one principal that make a burst.
    #[arg(long, default_value_t = 20)]
    pub burst_threshold: u32,
    /// Window of the denied-calls burst, in minutes.
    #[arg(long, default_value_t = 10)]
    pub burst_minutes: u64,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Format on standard output (see `rdsguard audit --help`). Default: table with the
    /// activity summary.
    #[arg(long, value_name = "FORMAT", value_parser = parse_report_format)]
    pub format: Option<rdsguard_report::Format>,
    /// Write the findings to FILE, as for `rdsguard audit -o` (repeatable).
    #[arg(short, long = "output", value_name = "[FORMAT:]FILE")]
    pub outputs: Vec<rdsguard_report::OutputSpec>,
    /// Exit with code 1 when a finding has at least this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Credentials, region and endpoint for s3:// inputs.
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// The action, e.g. rds:DeleteDBInstance; wildcards expand to the actions that apply to
    /// the resource (rds:Delete*).
    #[arg(value_name = "ACTION")]
    pub action: String,
    /// DB instance, cluster or snapshot identifier, or any resource ARN (e.g. a KMS key).
    #[arg(long, value_name = "ID|ARN")]
    pub resource: String,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CanArgs {
    /// Principal ARN (user, role or assumed-role session).
    #[arg(value_name = "PRINCIPAL")]
    pub principal: String,
    #[arg(value_name = "ACTION")]
    pub action: String,
    /// Resource identifier or ARN.
    #[arg(value_name = "RESOURCE")]
    pub resource: String,
    /// Request context, e.g. --context aws:SourceIp=203.0.113.7 (repeatable; a key given
    /// several times is multi-valued).
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum IamCommand {
    /// Evaluate a batch of requests, one JSON object a line (see docs in rdsguard-iam).
    Simulate {
        /// The JSON-lines file (`-` for standard input).
        #[arg(long, value_name = "FILE")]
        requests: PathBuf,
    },
    /// Generate a least-privilege, instance-specific policy and verify it with the engine.
    Policy {
        /// Actions to allow (comma-separated), e.g. rds:CreateDBInstance,rds:ModifyDBInstance.
        #[arg(long, value_delimiter = ',', required = true)]
        allow: Vec<String>,
        /// The DB instance identifier (resolved in the snapshot) or ARN.
        #[arg(long, value_name = "ID|ARN")]
        db: String,
        /// Allow creating instances only with storage encryption.
        #[arg(long)]
        require_encryption: bool,
        /// ...and only with this KMS key.
        #[arg(long, value_name = "ARN")]
        kms_key: Option<String>,
        #[command(flatten)]
        source: SourceArgs,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_report_format(s: &str) -> Result<rdsguard_report::Format, String> {
    s.parse()
}

fn parse_framework(s: &str) -> Result<rdsguard_report::Framework, String> {
    s.parse()
}

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
}

/// Live collection flags, shared by every command that can talk to AWS.
#[derive(Debug, Args, Clone, Default)]
pub struct LiveArgs {
    /// AWS profile from ~/.aws/config (SSO and assume-role profiles work).
    #[arg(long, env = "AWS_PROFILE", help_heading = "Live collection")]
    pub profile: Option<String>,
    /// Region to collect (repeatable). Default: the profile's or AWS_REGION.
    #[arg(long = "region", value_name = "REGION", help_heading = "Live collection")]
    pub regions: Vec<String>,
    /// Collect every region enabled in the account.
    #[arg(long, conflicts_with = "regions", help_heading = "Live collection")]
    pub all_regions: bool,
    /// Send every AWS call to this endpoint (emulators, compatible endpoints).
    #[arg(long, value_name = "URL", env = "RDSGUARD_ENDPOINT_URL", help_heading = "Live collection")]
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write the report to a file (mode 0600) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with code 1 when a failing finding has at least this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Exit with code 1 when any result is NOT_ASSESSED (strict audits).
    #[arg(long)]
    pub fail_on_not_assessed: bool,
    /// Only run these checks (repeatable; `*` wildcards allowed).
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// List passing and not-applicable results too (table format).
    #[arg(long)]
    pub show_all: bool,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub live: LiveArgs,
    /// Snapshot file to write (mode 0600).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
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

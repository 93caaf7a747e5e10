//! `rdsguard diff OLD.json NEW.json`: drift between two JSON reports (new, resolved and
//! unchanged failures); exit code 1 when a new failure reaches `--fail-on`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rdsguard_findings::{REPORT_SCHEMA_VERSION, Report, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (`rdsguard audit --format json`).
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The later report.
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// Exit with code 1 when a new failure has at least this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Output format (markdown: for pull-request comments).
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Also list the failures present in both reports (table format).
    #[arg(long)]
    pub show_unchanged: bool,
    /// Write to a file (mode 0600) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn read_report(path: &Path) -> anyhow::Result<Report> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let version: Option<u64> = serde_json::from_str::<serde_json::Value>(&text)
        .with_context(|| format!("{} is not JSON", path.display()))?
        .get("schema_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(REPORT_SCHEMA_VERSION)) {
        anyhow::bail!(
            "{} is not an rdsguard report of schema version {REPORT_SCHEMA_VERSION} \
             (write one with `rdsguard audit --format json -o FILE`)",
            path.display()
        );
    }
    serde_json::from_str(&text).with_context(|| format!("{} is not a valid report", path.display()))
}

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let old = read_report(&args.old)?;
    let new = read_report(&args.new)?;
    let drift = rdsguard_report::diff::diff(&old, &new)?;
    let text = match args.format {
        DiffFormat::Table => drift.to_text(
            args.output.is_none() && crate::output::stdout_color(),
            args.show_unchanged,
        ),
        DiffFormat::Json => drift.to_json(),
        DiffFormat::Markdown => drift.to_markdown(),
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(match args.fail_on {
        Some(t) if drift.new_failures_at(t) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

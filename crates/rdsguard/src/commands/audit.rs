//! `rdsguard audit`: snapshot → checks → report → exit code.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use rdsguard_checks::{CheckDef, Config};
use rdsguard_findings::{Report, Status};
use rdsguard_model::Snapshot;
use rdsguard_report::{Format, TableOptions};

use crate::cli::{AuditArgs, OutputFormat};

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args)?;
    let defs = selected_checks(&args.checks)?;
    let snapshot = crate::source::obtain(&args.source)?;
    let report = audit(&snapshot, &config, &defs);

    let format = match args.format {
        OutputFormat::Table => Format::Table,
        OutputFormat::Json => Format::Json,
    };
    let opts = TableOptions {
        color: args.output.is_none() && crate::output::stdout_color(),
        show_all: args.show_all,
    };
    crate::output::emit(&rdsguard_report::render(&report, format, opts), args.output.as_deref())?;

    let failing = args.fail_on.is_some_and(|t| report.fails_at(t));
    let unassessed = args.fail_on_not_assessed
        && report
            .findings
            .iter()
            .any(|f| f.status == Status::NotAssessed && f.suppressed.is_none());
    Ok(if failing || unassessed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Evaluate `defs` on the snapshot and wrap the findings in a report.
pub fn audit(snapshot: &Snapshot, config: &Config, defs: &[&CheckDef]) -> Report {
    let findings =
        rdsguard_checks::evaluate_with(snapshot, config, time::OffsetDateTime::now_utc(), defs);
    let accounts = snapshot.accounts.iter().map(|a| a.account_id.clone()).collect();
    let regions: BTreeSet<String> = snapshot
        .accounts
        .iter()
        .flat_map(|a| a.regions.iter().map(|r| r.region.clone()))
        .collect();
    Report::new(
        "audit",
        snapshot.collected_at.clone(),
        accounts,
        regions.into_iter().collect(),
        defs.iter().map(|d| d.metadata()).collect(),
        findings,
    )
}

fn load_config(args: &AuditArgs) -> anyhow::Result<Config> {
    if let Some(path) = &args.config {
        return Config::load(path).map_err(anyhow::Error::from);
    }
    if args.source.demo {
        return Config::from_toml_str(
            rdsguard_demo::demo_config_toml(),
            Path::new("<bundled demo rdsguard.toml>"),
        )
        .context("the bundled demo configuration is invalid (a bug: please report it)");
    }
    let default = Path::new("rdsguard.toml");
    if default.exists() {
        return Config::load(default).map_err(anyhow::Error::from);
    }
    Ok(Config::default())
}

fn selected_checks(patterns: &[String]) -> anyhow::Result<Vec<&'static CheckDef>> {
    let all = rdsguard_checks::check_defs();
    if patterns.is_empty() {
        return Ok(all);
    }
    let chosen: Vec<&'static CheckDef> = all
        .into_iter()
        .filter(|d| patterns.iter().any(|p| rdsguard_checks::glob_match(p, d.id)))
        .collect();
    if chosen.is_empty() {
        anyhow::bail!(
            "no check matches {}; list the catalogue with `rdsguard checks`",
            patterns.join(", ")
        );
    }
    Ok(chosen)
}

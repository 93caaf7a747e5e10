//! `rdsguard audit`: snapshot → checks → report → exit code.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use rdsguard_checks::{CheckDef, Config};
use rdsguard_findings::{Report, Status, Summary};
use rdsguard_model::Snapshot;
use rdsguard_rego::RuleSet;
use rdsguard_report::{Format, OutputSpec, RenderOptions, ResultKey, TableDigest};

use crate::cli::AuditArgs;

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args)?;
    let mut rules = load_rules(&args.rules, &args.checks)?;
    let custom_ids: Vec<String> = rules
        .iter()
        .flat_map(|r| r.metadata().into_iter().map(|m| m.id))
        .collect();
    let defs = selected_checks(&args.checks, &custom_ids)?;
    if args.to_security_hub {
        // Before the (possibly long) collection: fail now if the import cannot happen.
        security_hub_supported()?;
    }
    // Resolve every output's format before the (possibly long) collection.
    for spec in &args.outputs {
        spec.resolve(args.format).map_err(anyhow::Error::msg)?;
    }
    let snapshot = crate::source::obtain(&args.source)?;
    let opts = RenderOptions {
        show_all: args.show_all,
        compliance: args.compliance.clone(),
        ..RenderOptions::default()
    };
    if rules.is_none() && !args.to_security_hub && only_tables(&args) {
        // The table lists a few results per check: decide every status, explain only those.
        let time = evaluation_time(&snapshot);
        let analysis = rdsguard_checks::analyze(&snapshot, &config, time, &defs);
        let digest = table_digest(&snapshot, &config, &defs, &analysis, args.show_all)?;
        for (path, opts) in table_outputs(args.format, &args.outputs, &opts)? {
            crate::output::emit_with(path, |w| {
                w.write_all(rdsguard_report::render_digest(&digest, &opts).as_bytes())
            })?;
        }
        let unsuppressed = || {
            let analysis = &analysis;
            analysis
                .outcomes
                .iter()
                .enumerate()
                .filter(move |(i, _)| analysis.suppression(*i).is_none())
                .map(|(_, o)| o)
        };
        let failing = args
            .fail_on
            .is_some_and(|t| unsuppressed().any(|o| o.status == Status::Fail && o.severity >= t));
        let unassessed =
            args.fail_on_not_assessed && unsuppressed().any(|o| o.status == Status::NotAssessed);
        // As below: the OS reclaims it faster than freeing it piece by piece.
        std::mem::forget(analysis);
        std::mem::forget(snapshot);
        return Ok(exit_code(false, failing || unassessed));
    }
    let report = match rules.as_mut() {
        Some(rules) => audit_with_rules(&snapshot, &config, &defs, rules)?,
        None => audit(&snapshot, &config, &defs),
    };
    write_report(&report, args.format, &args.outputs, &opts)?;
    let import_failed =
        args.to_security_hub && !import_to_security_hub(&report, &snapshot, &args.source.live)?;

    let failing = args.fail_on.is_some_and(|t| report.fails_at(t));
    let unassessed = args.fail_on_not_assessed
        && report
            .findings
            .iter()
            .any(|f| f.status == Status::NotAssessed && f.suppressed.is_none());
    // The process ends next: freeing millions of findings and the snapshot one by one would
    // take longer than evaluating them (6-7 s at 100,000 instances); the OS reclaims it all.
    std::mem::forget(report);
    std::mem::forget(snapshot);
    Ok(exit_code(import_failed, failing || unassessed))
}

fn exit_code(import_failed: bool, failing: bool) -> ExitCode {
    if import_failed {
        ExitCode::from(2)
    } else if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Whether every output is the summary table without a compliance view.
fn only_tables(args: &AuditArgs) -> bool {
    args.compliance.is_none()
        && match args.outputs.as_slice() {
            [] => args.format.is_none_or(|f| f == Format::Table),
            outputs => outputs
                .iter()
                .all(|spec| spec.resolve(args.format) == Ok(Format::Table)),
        }
}

/// The outputs of a table-only audit (standard output when none), with their options:
/// colours only on a terminal without NO_COLOR.
fn table_outputs<'a>(
    format: Option<Format>,
    outputs: &'a [OutputSpec],
    opts: &RenderOptions,
) -> anyhow::Result<Vec<(Option<&'a Path>, RenderOptions)>> {
    if outputs.is_empty() {
        let opts = RenderOptions {
            color: crate::output::stdout_color(),
            ..opts.clone()
        };
        return Ok(vec![(None, opts)]);
    }
    outputs
        .iter()
        .map(|spec| {
            spec.resolve(format).map_err(anyhow::Error::msg)?;
            let opts = RenderOptions {
                color: spec.is_stdout() && crate::output::stdout_color(),
                ..opts.clone()
            };
            Ok(((!spec.is_stdout()).then_some(spec.path.as_path()), opts))
        })
        .collect()
}

/// What the summary table shows of `analysis`: every count, and the findings it lists,
/// explained now (the first per check, unless `show_all`).
pub fn table_digest(
    snapshot: &Snapshot,
    config: &Config,
    defs: &[&CheckDef],
    analysis: &rdsguard_checks::Analysis<'_>,
    show_all: bool,
) -> anyhow::Result<TableDigest> {
    let order = analysis.report_order();
    let keys: Vec<ResultKey<'_>> = order
        .iter()
        .map(|&i| analysis.result_key(i).into())
        .collect();
    let mut head = report_of(snapshot, defs, Vec::new());
    head.summary = Summary::tally(keys.iter().map(|k| (k.status, k.severity, k.suppressed)));
    let digest = TableDigest::build(head, &keys, show_all, |wanted| {
        analysis.explain_ordered(snapshot, config, &order, wanted)
    })?;
    Ok(digest)
}

#[cfg(feature = "live")]
fn security_hub_supported() -> anyhow::Result<()> {
    Ok(())
}

#[cfg(not(feature = "live"))]
fn security_hub_supported() -> anyhow::Result<()> {
    anyhow::bail!(
        "--to-security-hub needs live AWS access, and this rdsguard was built without the \
         `live` feature; rebuild with default features, or write ASFF with `-o findings.asff.json` \
         and import it with `aws securityhub batch-import-findings`"
    )
}

/// Import the results of the report's one account into Security Hub (the first --region,
/// else the default region). Prints the outcome and every failure on standard error; true
/// when every finding was imported.
#[cfg(feature = "live")]
fn import_to_security_hub(
    report: &Report,
    snapshot: &Snapshot,
    live: &crate::cli::LiveArgs,
) -> anyhow::Result<bool> {
    let [account] = report.accounts.as_slice() else {
        anyhow::bail!(
            "--to-security-hub imports the findings of one account into its own Security Hub, \
             but the report covers {} accounts",
            report.accounts.len()
        );
    };
    let partition = snapshot
        .accounts
        .iter()
        .find(|a| &a.account_id == account)
        .map(|a| a.partition.as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or("aws");
    let opts = rdsguard_collect::CollectOptions {
        profile: live.profile.clone(),
        regions: live.regions.clone(),
        all_regions: false,
        endpoint_url: live.endpoint_url.clone(),
        concurrency: live.concurrency.max(1),
        max_attempts: live.max_attempts.max(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let summary = runtime.block_on(async {
        let region = match live.regions.first() {
            Some(r) => r.clone(),
            None => rdsguard_collect::default_region(&opts)
                .await
                .ok_or(rdsguard_collect::CollectError::NoRegion)?,
        };
        let product = rdsguard_report::asff::default_product_arn(partition, &region, account);
        let batches = rdsguard_report::asff::asff_batches(report, account, &region, &product);
        rdsguard_collect::import_findings(&opts, &region, batches).await
    });
    let summary = summary.context("Security Hub import failed")?;
    eprintln!(
        "Security Hub: imported {} findings; {} failed",
        summary.imported,
        summary.failed.len()
    );
    for f in &summary.failed {
        eprintln!("  {}: {}: {}", f.id, f.error_code, f.error_message);
    }
    Ok(summary.failed.is_empty())
}

#[cfg(not(feature = "live"))]
fn import_to_security_hub(
    _report: &Report,
    _snapshot: &Snapshot,
    _live: &crate::cli::LiveArgs,
) -> anyhow::Result<bool> {
    security_hub_supported().map(|()| false)
}

/// Write `report` to every `-o` output (format from the spec, else `format`), or to standard
/// output in `format` (default table) when there is none. Colours only for a table on a
/// terminal without NO_COLOR.
pub fn write_report(
    report: &Report,
    format: Option<Format>,
    outputs: &[OutputSpec],
    opts: &RenderOptions,
) -> anyhow::Result<()> {
    let stdout = [OutputSpec {
        format,
        path: "-".into(),
    }];
    let outputs = if outputs.is_empty() {
        &stdout[..]
    } else {
        outputs
    };
    for spec in outputs {
        let fmt = spec.resolve(format).map_err(anyhow::Error::msg)?;
        let opts = RenderOptions {
            color: spec.is_stdout() && fmt == Format::Table && crate::output::stdout_color(),
            ..opts.clone()
        };
        let path = (!spec.is_stdout()).then_some(spec.path.as_path());
        // Streamed: the JSON of a large account does not fit in memory next to the report.
        crate::output::emit_with(path, |w| rdsguard_report::render_to(report, fmt, &opts, w))?;
    }
    Ok(())
}

/// Load the custom Rego checks of `--rules`, keeping those `--check` selects.
fn load_rules(
    paths: &[std::path::PathBuf],
    patterns: &[String],
) -> anyhow::Result<Option<RuleSet>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut rules = RuleSet::load(paths)?;
    rules.ensure_distinct_from(rdsguard_checks::check_defs().iter().map(|d| d.id))?;
    if !patterns.is_empty() {
        rules.retain_checks(|m| {
            patterns
                .iter()
                .any(|p| rdsguard_checks::glob_match(p, &m.id))
        });
    }
    Ok(Some(rules))
}

/// [`audit`], plus the custom Rego checks, in one report.
pub fn audit_with_rules(
    snapshot: &Snapshot,
    config: &Config,
    defs: &[&CheckDef],
    rules: &mut RuleSet,
) -> anyhow::Result<Report> {
    let builtin = audit(snapshot, config, defs);
    let custom = rules.evaluate(snapshot, config, evaluation_time(snapshot))?;
    let mut checks = builtin.checks;
    checks.extend(rules.metadata());
    let mut findings = builtin.findings;
    findings.extend(custom);
    Ok(Report::new(
        &builtin.kind,
        builtin.collected_at,
        builtin.accounts,
        builtin.regions,
        checks,
        findings,
    ))
}

/// The time checks are evaluated at: the snapshot's collection time (now, if unreadable).
fn evaluation_time(snapshot: &Snapshot) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        &snapshot.collected_at,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
}

/// Evaluate `defs` on the snapshot and wrap the findings in a report.
///
/// Time-dependent checks (certificate expiry, suppression expiry) are evaluated as of the
/// snapshot's collection time, so auditing a saved snapshot later gives exactly the result the
/// live audit gave.
pub fn audit(snapshot: &Snapshot, config: &Config, defs: &[&CheckDef]) -> Report {
    let findings =
        rdsguard_checks::evaluate_with(snapshot, config, evaluation_time(snapshot), defs);
    report_of(snapshot, defs, findings)
}

/// The audit report of `findings` (of `defs` on `snapshot`).
fn report_of(
    snapshot: &Snapshot,
    defs: &[&CheckDef],
    findings: Vec<rdsguard_findings::Finding>,
) -> Report {
    let accounts = snapshot
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
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
    if args.config.is_none() && args.source.demo {
        return Config::from_toml_str(
            rdsguard_demo::demo_config_toml(),
            Path::new("<bundled demo rdsguard.toml>"),
        )
        .context("the bundled demo configuration is invalid (a bug: please report it)");
    }
    config_file(args.config.as_deref())
}

/// `--config FILE`, else `./rdsguard.toml` when it exists, else the defaults.
pub fn config_file(explicit: Option<&Path>) -> anyhow::Result<Config> {
    if let Some(path) = explicit {
        return Config::load(path).map_err(anyhow::Error::from);
    }
    let default = Path::new("rdsguard.toml");
    if default.exists() {
        return Config::load(default).map_err(anyhow::Error::from);
    }
    Ok(Config::default())
}

/// The built-in checks `--check` selects; none is fine when a custom check matches instead.
fn selected_checks(
    patterns: &[String],
    custom_ids: &[String],
) -> anyhow::Result<Vec<&'static CheckDef>> {
    let all = rdsguard_checks::check_defs();
    if patterns.is_empty() {
        return Ok(all);
    }
    let chosen: Vec<&'static CheckDef> = all
        .into_iter()
        .filter(|d| {
            patterns
                .iter()
                .any(|p| rdsguard_checks::glob_match(p, d.id))
        })
        .collect();
    let custom_match = custom_ids
        .iter()
        .any(|id| patterns.iter().any(|p| rdsguard_checks::glob_match(p, id)));
    if chosen.is_empty() && !custom_match {
        anyhow::bail!(
            "no check matches {}; list the catalogue with `rdsguard checks`",
            patterns.join(", ")
        );
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use rdsguard_checks::{Config, check_defs};
    use rdsguard_report::{RenderOptions, TableDigest, render_digest, render_table};

    use super::{audit, evaluation_time, table_digest};

    /// The table of an audit that explains only what it lists is the table of the whole
    /// report: the same digest (counts, listed findings with messages and evidence,
    /// suppressed results) and the same text, with and without `--show-all`.
    fn assert_table_from_analysis_is_the_report_table(
        snapshot: &rdsguard_model::Snapshot,
        config: &Config,
    ) {
        let defs = check_defs();
        let report = audit(snapshot, config, &defs);
        let analysis = rdsguard_checks::analyze(snapshot, config, evaluation_time(snapshot), &defs);
        for show_all in [false, true] {
            let digest = match table_digest(snapshot, config, &defs, &analysis, show_all) {
                Ok(d) => d,
                Err(e) => panic!("table digest: {e:#}"),
            };
            assert_eq!(digest, TableDigest::of_report(&report, show_all));
            let opts = RenderOptions {
                show_all,
                ..RenderOptions::default()
            };
            assert_eq!(render_digest(&digest, &opts), render_table(&report, &opts));
        }
    }

    #[test]
    fn table_from_analysis_is_the_report_table_on_the_demo() {
        let config = Config::from_toml_str(
            rdsguard_demo::demo_config_toml(),
            std::path::Path::new("demo"),
        )
        .unwrap_or_else(|e| panic!("demo config: {e}"));
        assert!(!config.suppressions.is_empty());
        assert_table_from_analysis_is_the_report_table(&rdsguard_demo::demo_snapshot(), &config);
    }

    #[test]
    fn table_from_analysis_is_the_report_table_on_a_synthetic_account() {
        let snapshot =
            rdsguard_demo::synthetic(&rdsguard_demo::SyntheticParams::with_instances(120));
        assert_table_from_analysis_is_the_report_table(&snapshot, &Config::default());
    }
}

//! `rdsguard trail`: CloudTrail logs → detections → the same finding model as `audit`.

use std::process::ExitCode;
use std::time::Duration;

use rdsguard_report::{Format, RenderOptions};
use rdsguard_trail::{TrailOptions, parse_time_bound, render_summary_table};

use crate::cli::TrailArgs;
use crate::commands::audit::{config_file, write_report};

/// Some input could not be read; everything else was scanned.
const EXIT_INPUT_SKIPPED: u8 = 3;

pub fn run(args: TrailArgs) -> anyhow::Result<ExitCode> {
    let s3_inputs: Vec<String> = args
        .inputs
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p.starts_with("s3://"))
        .collect();
    if !s3_inputs.is_empty() && s3_inputs.len() != args.inputs.len() {
        anyhow::bail!("pass either local paths or s3:// URIs, not both (run twice to scan both)");
    }
    let config = config_file(args.config.as_deref())?;
    let mut trusted = config.trusted_accounts.clone();
    trusted.extend(args.trusted_accounts.iter().cloned());
    let opts = TrailOptions {
        since: args.since.as_deref().map(parse_time_bound).transpose()?,
        until: args.until.as_deref().map(parse_time_bound).transpose()?,
        trusted_accounts: trusted,
        burst_threshold: args.burst_threshold,
        burst_window: Duration::from_secs(args.burst_minutes.saturating_mul(60)),
        sigma_dirs: args.rules.clone(),
        threads: args.threads,
        ..TrailOptions::default()
    };
    let result = if s3_inputs.is_empty() {
        rdsguard_trail::scan(&args.inputs, &opts)?
    } else {
        scan_s3(&args, &s3_inputs, &opts)?
    };

    for p in &result.rule_problems {
        eprintln!(
            "warning: Sigma rule {} ({}) not used: {}",
            p.rule,
            p.file.display(),
            p.reason
        );
    }
    for s in &result.skipped_inputs {
        eprintln!("warning: skipped {}: {}", s.input, s.reason);
    }

    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let report = result.report(now);
    let table_on_stdout =
        args.outputs.is_empty() && matches!(args.format, None | Some(Format::Table));
    if table_on_stdout {
        // The activity summary (by principal, event and hour) goes with the findings table.
        crate::output::emit(&render_summary_table(&result), None)?;
    }
    write_report(
        &report,
        args.format,
        &args.outputs,
        &RenderOptions::default(),
    )?;

    if args.fail_on.is_some_and(|t| report.fails_at(t)) {
        return Ok(ExitCode::from(1));
    }
    if result.input_skipped() {
        return Ok(ExitCode::from(EXIT_INPUT_SKIPPED));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "live")]
fn scan_s3(
    args: &TrailArgs,
    uris: &[String],
    opts: &TrailOptions,
) -> anyhow::Result<rdsguard_trail::TrailResult> {
    use anyhow::Context;
    let live = &args.live;
    let collect = rdsguard_collect::CollectOptions {
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
    runtime
        .block_on(rdsguard_collect::scan_s3(&collect, uris, opts))
        .context("reading CloudTrail logs from S3 failed")
}

#[cfg(not(feature = "live"))]
fn scan_s3(
    _args: &TrailArgs,
    _uris: &[String],
    _opts: &TrailOptions,
) -> anyhow::Result<rdsguard_trail::TrailResult> {
    anyhow::bail!(
        "this rdsguard was built without AWS access (feature `live`); download the logs \
         (aws s3 sync s3://bucket/prefix ./logs) and pass the folder"
    )
}

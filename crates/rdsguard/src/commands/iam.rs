//! `rdsguard who-can`, `rdsguard can`, `rdsguard iam simulate|policy`: the IAM engine.

use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use rdsguard_iam::{ContextValue, render};
use rdsguard_model::Snapshot;

use crate::cli::{CanArgs, IamCommand, OutputFormat, SourceArgs, WhoCanArgs};

fn json<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

/// A resource argument as ARNs: an ARN as given, or the DB instances, clusters and snapshots
/// with that identifier in the snapshot.
fn resource_arns(snapshot: &Snapshot, resource: &str) -> anyhow::Result<Vec<(String, String)>> {
    if resource.starts_with("arn:") {
        let account = resource.split(':').nth(4).unwrap_or_default().to_string();
        return Ok(vec![(account, resource.to_string())]);
    }
    let found = rdsguard_iam::resolve_db(snapshot, resource);
    if found.is_empty() {
        bail!(
            "no DB instance, cluster or snapshot named `{resource}` in the snapshot; pass its \
             identifier as listed by `rdsguard audit`, or a full ARN"
        );
    }
    Ok(found.into_iter().map(|d| (d.account_id, d.arn)).collect())
}

fn snapshot_of(source: &SourceArgs) -> anyhow::Result<Snapshot> {
    crate::source::obtain(source)
}

pub fn who_can(args: WhoCanArgs) -> anyhow::Result<ExitCode> {
    let snapshot = snapshot_of(&args.source)?;
    let mut answers = Vec::new();
    for (account, arn) in resource_arns(&snapshot, &args.resource)? {
        answers.push(rdsguard_iam::who_can(
            &snapshot,
            &account,
            &args.action,
            &arn,
        )?);
    }
    let text = match args.format {
        OutputFormat::Json => json(&answers)?,
        OutputFormat::Table => answers
            .iter()
            .map(render::who_can_text)
            .collect::<Vec<_>>()
            .join("\n"),
    };
    crate::output::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

fn parse_context(pairs: &[String]) -> anyhow::Result<Vec<(String, ContextValue)>> {
    let mut out: Vec<(String, ContextValue)> = Vec::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            bail!("--context `{p}` is not KEY=VALUE (e.g. aws:SourceIp=203.0.113.7)");
        };
        match out.iter_mut().find(|(key, _)| key.eq_ignore_ascii_case(k)) {
            Some((_, existing)) => {
                let mut values = match existing {
                    ContextValue::Single(s) => vec![s.clone()],
                    ContextValue::Multi(m) => m.clone(),
                };
                values.push(v.to_string());
                *existing = ContextValue::Multi(values);
            }
            None => out.push((k.to_string(), ContextValue::Single(v.to_string()))),
        }
    }
    Ok(out)
}

pub fn can(args: CanArgs) -> anyhow::Result<ExitCode> {
    let snapshot = snapshot_of(&args.source)?;
    let context = parse_context(&args.context)?;
    let mut explanations = Vec::new();
    for (_, arn) in resource_arns(&snapshot, &args.resource)? {
        explanations.push(rdsguard_iam::explain(
            &snapshot,
            &args.principal,
            &args.action,
            &arn,
            &context,
        )?);
    }
    let text = match args.format {
        OutputFormat::Json => json(&explanations)?,
        OutputFormat::Table => explanations
            .iter()
            .map(render::explanation_text)
            .collect::<Vec<_>>()
            .join("\n"),
    };
    crate::output::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

pub fn iam(cmd: IamCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        IamCommand::Simulate { requests } => {
            let reader: Box<dyn BufRead> = if requests.as_os_str() == "-" {
                Box::new(BufReader::new(std::io::stdin()))
            } else {
                let f = std::fs::File::open(&requests)
                    .with_context(|| format!("cannot open {}", requests.display()))?;
                Box::new(BufReader::new(f))
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for line in reader.lines() {
                let line = line.context("cannot read the requests")?;
                if line.trim().is_empty() {
                    continue;
                }
                // A bad line gets an error answer and the batch goes on.
                writeln!(out, "{}", rdsguard_iam::simulate_line(&line))?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        IamCommand::Policy {
            allow,
            db,
            require_encryption,
            kms_key,
            source,
            format,
        } => {
            let arn = if db.starts_with("arn:") {
                db
            } else {
                let snapshot = snapshot_of(&source)?;
                rdsguard_iam::resolve_db(&snapshot, &db)
                    .into_iter()
                    .find(|d| d.resource_type == "db")
                    .map(|d| d.arn)
                    .with_context(|| {
                        format!("no DB instance `{db}` in the snapshot; pass its ARN instead")
                    })?
            };
            let generated = rdsguard_iam::generate_policy(
                &allow,
                &arn,
                require_encryption,
                kms_key.as_deref(),
            )?;
            let text = match format {
                OutputFormat::Json => json(&generated)?,
                OutputFormat::Table => render::generated_policy_text(&generated),
            };
            crate::output::emit(&text, None)?;
            Ok(if generated.verified {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

//! Collection benchmark driver (used by scripts/bench-collect.sh).
//!
//!     collect_bench seed    --endpoint URL --instances N
//!     collect_bench collect --endpoint URL [--concurrency C] [--max-attempts A]
//!
//! Credentials and region come from the standard chain (the script exports static test
//! credentials and AWS_REGION), so `collect` runs exactly what `rdsguard audit` runs.
//!
//! `seed` creates, through the SDK and concurrently, an account of N DB instances with
//! N/25 KMS keys, N/10 security groups, N/50 parameter groups and N/5 manual snapshots
//! (every tenth public). moto keeps an automated snapshot per instance: run it with
//! MOTO_RDS_SNAPSHOT_LIMIT raised.
//!
//! `collect` prints one JSON line: seconds, api_calls, http_attempts, gaps, peak_rss_kb (VmHWM
//! of this process, which only collects), and what was found. Seeding and collecting are
//! separate processes so the peak memory is the collector's alone.

use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_sdk_ec2::types as ec2t;
use aws_sdk_rds::types as rdst;
use futures::StreamExt;
use rdsguard_collect::{CollectOptions, NoProgress, collect_with_stats};

mod bench_util;
use bench_util::{arg, peak_rss_kb};

const SEED_CONCURRENCY: usize = 32;

fn usage() -> ! {
    eprintln!(
        "usage: collect_bench seed --endpoint URL --instances N\n       \
         collect_bench collect --endpoint URL [--concurrency C] [--max-attempts A]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(endpoint) = arg(&args, "--endpoint") else {
        usage()
    };
    match args.first().map(String::as_str) {
        Some("seed") => {
            let n: usize = arg(&args, "--instances")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage());
            seed(&endpoint, n).await;
        }
        Some("collect") => {
            let defaults = CollectOptions::default();
            let opts = CollectOptions {
                endpoint_url: Some(endpoint),
                concurrency: arg(&args, "--concurrency")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(defaults.concurrency),
                max_attempts: arg(&args, "--max-attempts")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(defaults.max_attempts),
                ..defaults
            };
            let (snap, stats) = match collect_with_stats(&opts, &NoProgress).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("collection failed: {e}");
                    std::process::exit(1);
                }
            };
            let region = snap.accounts.first().and_then(|a| a.regions.first());
            let out = serde_json::json!({
                "tool": "rdsguard",
                "concurrency": opts.concurrency,
                "seconds": (stats.elapsed.as_secs_f64() * 100.0).round() / 100.0,
                "api_calls": stats.api_calls,
                "http_attempts": stats.http_attempts,
                "gaps": stats.gaps,
                "peak_rss_kb": peak_rss_kb(),
                "dbs": region.map(|r| r.rds.db_instances.len()),
                "snapshots": region.map(|r| r.rds.db_snapshots.len()),
                "sgs": region.map(|r| r.ec2.security_groups.len()),
                "keys": region.map(|r| r.kms.keys.len()),
            });
            println!("{out}");
        }
        _ => usage(),
    }
}

/// An SDK error with its whole cause chain, on one line.
fn err(e: impl std::error::Error) -> String {
    aws_smithy_types::error::display::DisplayErrorContext(e).to_string()
}

/// Run `jobs` with bounded concurrency; any failure aborts the seeding.
async fn run_all<F, T, E>(what: &str, jobs: Vec<F>) -> Vec<T>
where
    F: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let n = jobs.len();
    let results: Vec<Result<T, E>> = futures::stream::iter(jobs)
        .buffered(SEED_CONCURRENCY)
        .collect()
        .await;
    let mut out = Vec::with_capacity(n);
    for r in results {
        match r {
            Ok(v) => out.push(v),
            Err(e) => {
                eprintln!("seeding {what} failed: {e}");
                std::process::exit(1);
            }
        }
    }
    eprintln!(
        "seeded {n} {what} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    out
}

async fn seed(endpoint: &str, n: usize) {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .load()
        .await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let rds = aws_sdk_rds::Client::new(&sdk);

    let keys = run_all(
        "KMS keys",
        (0..(n / 25).max(1))
            .map(|i| {
                let kms = kms.clone();
                async move {
                    let key = kms
                        .create_key()
                        .description(format!("bench key {i}"))
                        .send()
                        .await
                        .map_err(err)?;
                    let arn = key
                        .key_metadata()
                        .and_then(|m| m.arn())
                        .unwrap_or_default()
                        .to_string();
                    if i % 2 == 0 {
                        kms.enable_key_rotation()
                            .key_id(&arn)
                            .send()
                            .await
                            .map_err(err)?;
                    }
                    Ok::<_, String>(arn)
                }
            })
            .collect(),
    )
    .await;

    let sgs = run_all(
        "security groups",
        (0..(n / 10).max(1))
            .map(|i| {
                let ec2 = ec2.clone();
                async move {
                    let id = ec2
                        .create_security_group()
                        .group_name(format!("bench-db-{i}"))
                        .description("bench")
                        .send()
                        .await
                        .map_err(err)?
                        .group_id()
                        .unwrap_or_default()
                        .to_string();
                    let cidr = if i % 10 == 0 {
                        "0.0.0.0/0"
                    } else {
                        "10.0.0.0/8"
                    };
                    ec2.authorize_security_group_ingress()
                        .group_id(&id)
                        .ip_permissions(
                            ec2t::IpPermission::builder()
                                .ip_protocol("tcp")
                                .from_port(5432)
                                .to_port(5432)
                                .ip_ranges(ec2t::IpRange::builder().cidr_ip(cidr).build())
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(err)?;
                    Ok::<_, String>(id)
                }
            })
            .collect(),
    )
    .await;

    let groups = run_all(
        "parameter groups",
        (0..(n / 50).max(1))
            .map(|i| {
                let rds = rds.clone();
                async move {
                    let name = format!("bench-pg-{i}");
                    rds.create_db_parameter_group()
                        .db_parameter_group_name(&name)
                        .db_parameter_group_family("postgres16")
                        .description("bench")
                        .send()
                        .await
                        .map_err(err)?;
                    rds.modify_db_parameter_group()
                        .db_parameter_group_name(&name)
                        .parameters(
                            rdst::Parameter::builder()
                                .parameter_name("rds.force_ssl")
                                .parameter_value(if i % 2 == 0 { "1" } else { "0" })
                                .apply_method(rdst::ApplyMethod::Immediate)
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(err)?;
                    Ok::<_, String>(name)
                }
            })
            .collect(),
    )
    .await;

    run_all(
        "DB instances",
        (0..n)
            .map(|i| {
                let rds = rds.clone();
                let sg = sgs[i % sgs.len()].clone();
                let group = groups[i % groups.len()].clone();
                let key = keys[i % keys.len()].clone();
                async move {
                    let mut req = rds
                        .create_db_instance()
                        .db_instance_identifier(format!("bench-db-{i:05}"))
                        .engine("postgres")
                        .engine_version("16.3")
                        .db_instance_class("db.t3.micro")
                        .allocated_storage(20)
                        .master_username("postgres")
                        .master_user_password("bench-password-1")
                        .vpc_security_group_ids(sg)
                        .db_parameter_group_name(group)
                        .publicly_accessible(i % 20 == 0)
                        .tags(
                            rdst::Tag::builder()
                                .key("team")
                                .value(format!("t{}", i % 7))
                                .build(),
                        );
                    if i % 2 == 0 {
                        req = req.storage_encrypted(true).kms_key_id(key);
                    }
                    req.send().await.map_err(err)
                }
            })
            .collect(),
    )
    .await;

    run_all(
        "manual snapshots",
        (0..n / 5)
            .map(|i| {
                let rds = rds.clone();
                async move {
                    let id = format!("bench-snap-{i:05}");
                    rds.create_db_snapshot()
                        .db_snapshot_identifier(&id)
                        .db_instance_identifier(format!("bench-db-{:05}", i * 5))
                        .send()
                        .await
                        .map_err(err)?;
                    if i % 10 == 0 {
                        rds.modify_db_snapshot_attribute()
                            .db_snapshot_identifier(&id)
                            .attribute_name("restore")
                            .values_to_add("all")
                            .send()
                            .await
                            .map_err(err)?;
                    }
                    Ok::<_, String>(())
                }
            })
            .collect(),
    )
    .await;
}

//! `rdsguard-bench`: time the analysis of the check catalogue on synthetic accounts of growing
//! size, single-threaded, for BENCHMARKS.md.
//!
//! ```text
//! cargo run --release -p rdsguard-bench                     # 1k, 10k and 100k instances
//! cargo run --release -p rdsguard-bench -- 1000 50000
//! cargo run --release -p rdsguard-bench -- --per-check 10000
//! cargo run --release -p rdsguard-bench -- --exclude 'rds_iam_*' 100000
//! cargo run --release -p rdsguard-bench -- --only 'rds_iam_*' --only rds_kms_key_access 100000
//! cargo run --release -p rdsguard-bench -- --explained 10000
//! cargo run --release -p rdsguard-bench -- --loaded --repeat 10 100000
//! ```
//!
//! For each size it reports the time to generate the snapshot, the resident memory once the
//! snapshot is built, the time to analyse it (the status of every check and resource, as
//! `audit` computes it: wall, and the thread's CPU time, which load on the machine does not
//! inflate), instances analysed per second (wall), the number of results, the process's peak
//! resident memory so far (VmHWM; sizes run in increasing order, so it is the peak of the
//! largest so far), the time `audit` then takes to produce its summary table (order every
//! result, explain the ones listed) and the time to free the results.
//!
//! `--explained` times the evaluation that explains every result instead (`evaluate_with`,
//! what the formats listing every finding need), then the sort into a report. `--times`
//! lists where the analysis spent its time, check by check (wall time summed over the
//! regions, the fastest of the repeats; the checks run together as one; a check's time
//! includes what it computed first for the checks after it). `--per-check` does the same,
//! then times each check alone and lists the slowest with the sum of their times, to find
//! the ones that do not scale linearly; `--only GLOB` keeps only the matching checks and
//! `--exclude GLOB` leaves checks out (both repeatable, `*` wildcards), to measure one part of
//! the catalogue. `--repeat N` analyses each snapshot N times, a row each: on a shared
//! machine the fastest of several runs is the figure least disturbed by other tenants.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use rdsguard_checks::engine::glob_match;
use rdsguard_checks::{CheckDef, Config, analyze, check_defs, evaluate_with};
use rdsguard_demo::{SyntheticParams, synthetic};
use rdsguard_findings::{Finding, Report};
use rdsguard_model::Snapshot;

// The allocator of the rdsguard binary (jemalloc where it builds, with the options of
// `.cargo/config.toml`) unless asked otherwise (see Cargo.toml's features).
#[cfg(all(feature = "jemalloc", unix, not(target_os = "openbsd")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(all(
    feature = "mimalloc",
    not(all(feature = "jemalloc", unix, not(target_os = "openbsd")))
))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEFAULT_SIZES: &[usize] = &[1_000, 10_000, 100_000];
const SLOWEST_SHOWN: usize = 25;

/// A field of /proc/self/status in KiB (Linux only), e.g. `VmHWM` (peak) or `VmRSS` (current).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(field: &str) -> String {
    status_kib(field).map_or("n/a".to_string(), |k| format!("{:.1}", k as f64 / 1024.0))
}

/// CPU time this thread has run, from /proc/thread-self/schedstat (Linux only): unlike wall
/// time, it is not inflated when other processes share the cores.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("n/a".to_string(), |d| {
        format!("{:.1}", d.as_secs_f64() * 1000.0)
    })
}

fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-01 09:00:00 UTC)
}

/// Where `analysis` spent its time, by check (or checks run together), summed over the
/// scopes, slowest first.
fn times_by_check(analysis: &rdsguard_checks::Analysis<'_>) -> Vec<(Duration, String)> {
    let mut by_label: Vec<(Duration, String)> = Vec::new();
    for run in analysis.run_times() {
        let id = |i: &u16| analysis.checks.get(usize::from(*i)).map_or("?", |d| d.id);
        let label = match run.checks.as_slice() {
            [one] => id(one).to_string(),
            [first, ..] => format!(
                "{} checks run together, from {}",
                run.checks.len(),
                id(first)
            ),
            [] => continue,
        };
        match by_label.iter_mut().find(|(_, l)| *l == label) {
            Some((spent, _)) => *spent += run.spent,
            None => by_label.push((run.spent, label)),
        }
    }
    by_label.sort_by_key(|t| std::cmp::Reverse(t.0));
    by_label
}

/// The slowest checks, each evaluated alone (CPU time, findings freed outside the timing).
fn per_check(snapshot: &Snapshot, config: &Config, defs: &[&CheckDef], explained: bool) {
    let mut timings: Vec<(Duration, &str, usize)> = defs
        .iter()
        .map(|def| {
            // Thread CPU time where available (load does not inflate it), else wall time.
            let started = Instant::now();
            let cpu_started = thread_cpu();
            let results = evaluate(snapshot, config, &[def], explained);
            let cpu = thread_cpu()
                .zip(cpu_started)
                .map(|(end, start)| end - start);
            (
                cpu.unwrap_or_else(|| started.elapsed()),
                def.id,
                results.len(),
            )
        })
        .collect();
    timings.sort_by_key(|t| std::cmp::Reverse(t.0));
    let total: Duration = timings.iter().map(|t| t.0).sum();
    println!(
        "  each check alone, summed: {:.1} ms; the slowest:",
        total.as_secs_f64() * 1000.0
    );
    for (elapsed, id, findings) in timings.iter().take(SLOWEST_SHOWN) {
        println!(
            "{:>24.1} ms  {id} ({findings} findings)",
            elapsed.as_secs_f64() * 1000.0
        );
    }
}

/// The results of `defs`: statuses only (the analysis, as `audit` runs it), or every result
/// explained (as `evaluate_with` gives them to the formats that write every finding).
enum Results<'d> {
    Analysis(rdsguard_checks::Analysis<'d>),
    Explained(Vec<Finding>),
}

impl Results<'_> {
    fn len(&self) -> usize {
        match self {
            Results::Analysis(a) => a.outcomes.len(),
            Results::Explained(f) => f.len(),
        }
    }
}

fn evaluate<'d>(
    snapshot: &Snapshot,
    config: &Config,
    defs: &[&'d CheckDef],
    explained: bool,
) -> Results<'d> {
    if explained {
        Results::Explained(evaluate_with(snapshot, config, now(), defs))
    } else {
        Results::Analysis(analyze(snapshot, config, now(), defs))
    }
}

/// What `audit` does after the analysis for its default output: order the results, explain
/// those the summary table lists (the first 25 per check and status), count the rest.
fn table(
    snapshot: &Snapshot,
    config: &Config,
    analysis: &rdsguard_checks::Analysis<'_>,
) -> Result<rdsguard_report::TableDigest, rdsguard_checks::ExplainError> {
    let order = analysis.report_order();
    let keys: Vec<rdsguard_report::ResultKey<'_>> = order
        .iter()
        .map(|&i| analysis.result_key(i).into())
        .collect();
    let head = Report::new("audit", String::new(), vec![], vec![], vec![], Vec::new());
    rdsguard_report::TableDigest::build(head, &keys, false, |wanted| {
        analysis.explain_ordered(snapshot, config, &order, wanted)
    })
}

fn main() -> ExitCode {
    let mut sizes = Vec::new();
    let mut show_per_check = false;
    let mut show_times = false;
    let mut explained = false;
    let mut loaded = false;
    let mut repeat = 1usize;
    let mut excluded: Vec<String> = Vec::new();
    let mut only: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--per-check" {
            show_per_check = true;
            show_times = true;
            continue;
        }
        if arg == "--times" {
            show_times = true;
            continue;
        }
        if arg == "--explained" {
            explained = true;
            continue;
        }
        if arg == "--loaded" {
            loaded = true;
            continue;
        }
        if arg == "--repeat" {
            match args.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) if n > 0 => repeat = n,
                _ => {
                    eprintln!("rdsguard-bench: --repeat needs a positive count");
                    return ExitCode::from(2);
                }
            }
            continue;
        }
        let patterns = match arg.as_str() {
            "--only" => Some(&mut only),
            "--exclude" => Some(&mut excluded),
            _ => None,
        };
        if let Some(patterns) = patterns {
            match args.next() {
                Some(pattern) => patterns.push(pattern),
                None => {
                    eprintln!("rdsguard-bench: {arg} needs a check id pattern");
                    return ExitCode::from(2);
                }
            }
            continue;
        }
        match arg.replace('_', "").parse::<usize>() {
            Ok(n) if n > 0 => sizes.push(n),
            _ => {
                eprintln!("rdsguard-bench: `{arg}` is not a positive instance count");
                eprintln!(
                    "usage: rdsguard-bench [--explained] [--loaded] [--repeat N] [--per-check] [--times] [--only GLOB]... [--exclude GLOB]... [INSTANCES...]"
                );
                return ExitCode::from(2);
            }
        }
    }
    if sizes.is_empty() {
        sizes = DEFAULT_SIZES.to_vec();
    }
    sizes.sort_unstable();

    let all = check_defs();
    let defs: Vec<&CheckDef> = all
        .iter()
        .copied()
        .filter(|d| only.is_empty() || only.iter().any(|p| glob_match(p, d.id)))
        .filter(|d| !excluded.iter().any(|p| glob_match(p, d.id)))
        .collect();
    let config = Config::default();
    println!(
        "{} of {} checks (excluded: {}); evaluation is single-threaded\n",
        defs.len(),
        all.len(),
        if excluded.is_empty() {
            "none".to_string()
        } else {
            excluded.join(", ")
        }
    );
    println!(
        "{:>10} {:>12} {:>14} {:>12} {:>12} {:>12} {:>10} {:>13} {:>10} {:>9}",
        "instances",
        "generate ms",
        "snapshot MiB",
        if explained {
            "evaluate ms"
        } else {
            "analyse ms"
        },
        "CPU ms",
        "instances/s",
        "results",
        "peak RSS MiB",
        if explained { "report ms" } else { "table ms" },
        "free ms"
    );
    for n in sizes {
        let started = Instant::now();
        let mut snapshot = synthetic(&SyntheticParams::with_instances(n));
        if loaded {
            // What `audit --snapshot` analyses: the snapshot written, then read back (its
            // values laid out in memory in file order, not in the generator's).
            let read_back = serde_json::to_string(&snapshot)
                .map_err(|e| e.to_string())
                .and_then(|text| {
                    rdsguard_model::io::from_json_str(&text, std::path::Path::new("(generated)"))
                        .map_err(|e| e.to_string())
                });
            match read_back {
                Ok(s) => snapshot = s,
                Err(e) => {
                    eprintln!("rdsguard-bench: the generated snapshot does not read back: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let generated = started.elapsed();
        let snapshot_rss = mib("VmRSS");
        // Each check's fastest time over the repeats.
        let mut best_times: Vec<(Duration, String)> = Vec::new();

        for _ in 0..repeat {
            let started = Instant::now();
            let cpu_started = thread_cpu();
            let results = evaluate(&snapshot, &config, &defs, explained);
            let evaluated = started.elapsed();
            let cpu = thread_cpu()
                .zip(cpu_started)
                .map(|(end, start)| end - start);

            let secs = evaluated.as_secs_f64();
            let rate = if secs > 0.0 {
                n as f64 / secs
            } else {
                f64::INFINITY
            };
            let count = results.len();
            let peak = mib("VmHWM");
            // What `audit` does next: sort into the canonical order and count (`Report::new`).
            let started = Instant::now();
            let report = match results {
                Results::Explained(findings) => Results::Explained(
                    Report::new("audit", String::new(), vec![], vec![], vec![], findings).findings,
                ),
                Results::Analysis(analysis) => {
                    let times = if show_times {
                        times_by_check(&analysis)
                    } else {
                        Vec::new()
                    };
                    for (spent, label) in times {
                        match best_times.iter_mut().find(|(_, l)| *l == label) {
                            Some((best, _)) => *best = (*best).min(spent),
                            None => best_times.push((spent, label)),
                        }
                    }
                    match table(&snapshot, &config, &analysis) {
                        Ok(digest) => drop(std::hint::black_box(digest)),
                        Err(e) => {
                            eprintln!("rdsguard-bench: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                    Results::Analysis(analysis)
                }
            };
            let reported = started.elapsed();
            let started = Instant::now();
            drop(report);
            let freed = started.elapsed();
            println!(
                "{:>10} {:>12.1} {:>14} {:>12.1} {:>12} {:>12.0} {:>10} {:>13} {:>10.1} {:>9.1}",
                n,
                generated.as_secs_f64() * 1000.0,
                snapshot_rss,
                secs * 1000.0,
                ms(cpu),
                rate,
                count,
                peak,
                reported.as_secs_f64() * 1000.0,
                freed.as_secs_f64() * 1000.0
            );
        }
        if show_times && !best_times.is_empty() {
            best_times.sort_by_key(|t| std::cmp::Reverse(t.0));
            let total: Duration = best_times.iter().map(|t| t.0).sum();
            println!(
                "  in the analysis at {n} instances (fastest of {repeat} per check), {:.1} ms in all; the slowest:",
                total.as_secs_f64() * 1000.0
            );
            for (spent, label) in best_times.iter().take(SLOWEST_SHOWN) {
                println!("{:>24.1} ms  {label}", spent.as_secs_f64() * 1000.0);
            }
        }
        if show_per_check {
            println!("  slowest checks at {n} instances:");
            per_check(&snapshot, &config, &defs, explained);
        }
    }
    ExitCode::SUCCESS
}

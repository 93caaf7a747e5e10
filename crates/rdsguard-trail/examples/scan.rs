//! Scans CloudTrail logs with every built-in detection and the given Sigma rules, and prints
//! throughput (used by scripts/bench-trail.sh).
//!
//! Usage: scan [--threads N] [--rules DIR]... [--findings] PATH...

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut opts = rdsguard_trail::TrailOptions::default();
    let mut inputs = Vec::new();
    let mut show_findings = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => opts.threads = n,
                None => {
                    eprintln!("--threads needs a number");
                    return ExitCode::from(2);
                }
            },
            "--rules" => match args.next() {
                Some(d) => opts.sigma_dirs.push(PathBuf::from(d)),
                None => {
                    eprintln!("--rules needs a directory");
                    return ExitCode::from(2);
                }
            },
            "--findings" => show_findings = true,
            _ => inputs.push(PathBuf::from(arg)),
        }
    }
    let started = Instant::now();
    let result = match rdsguard_trail::scan(&inputs, &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    if show_findings {
        for f in &result.findings {
            println!("{:<9} {:<45} {}", f.severity, f.check_id, f.message);
        }
        print!("{}", rdsguard_trail::render_summary_table(&result));
    }
    let mb = result.stats.bytes_uncompressed as f64 / 1e6;
    println!(
        "scanned {:.1} MB ({} events, {} findings, {} detections, {} rule problems, {} inputs skipped) in {:.3} s: {:.1} MB/s",
        mb,
        result.stats.events,
        result.findings.len(),
        result.detections.len(),
        result.rule_problems.len(),
        result.skipped_inputs.len(),
        secs,
        mb / secs
    );
    if result.input_skipped() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

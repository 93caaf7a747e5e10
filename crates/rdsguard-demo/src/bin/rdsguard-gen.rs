//! `rdsguard-gen`: write a synthetic snapshot of a large account, for benchmarks and scale
//! tests.
//!
//! ```text
//! rdsguard-gen --instances 100000 [--regions 4] [--seed 1] -o big.json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use rdsguard_demo::{SyntheticParams, synthetic};

const USAGE: &str = "usage: rdsguard-gen --instances N [--regions R] [--seed S] -o FILE.json";

fn parse_args(args: impl Iterator<Item = String>) -> Result<(SyntheticParams, PathBuf), String> {
    let mut params = SyntheticParams::default();
    let mut instances = None;
    let mut output = None;
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        let number = |name: &str, text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{name} expects a non-negative integer, got `{text}`"))
        };
        match flag.as_str() {
            "--instances" | "-n" => instances = Some(number("--instances", value("--instances")?)?),
            "--regions" | "-r" => {
                let regions = number("--regions", value("--regions")?)?;
                let max = rdsguard_demo::synthetic::REGION_NAMES.len() as u64;
                if !(1..=max).contains(&regions) {
                    return Err(format!("--regions must be between 1 and {max}"));
                }
                params.regions = regions as usize;
            }
            "--seed" | "-s" => params.seed = number("--seed", value("--seed")?)?,
            "--output" | "-o" => output = Some(PathBuf::from(value("--output")?)),
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let instances = instances.ok_or_else(|| format!("--instances is required\n{USAGE}"))?;
    params.db_instances = usize::try_from(instances)
        .map_err(|_| format!("--instances {instances} is too large for this platform"))?;
    let output = output.ok_or_else(|| format!("-o FILE is required\n{USAGE}"))?;
    Ok((params, output))
}

fn main() -> ExitCode {
    let (params, output) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("rdsguard-gen: {message}");
            return ExitCode::from(2);
        }
    };
    let snapshot = synthetic(&params);
    if let Err(e) = rdsguard_model::io::write_snapshot(&snapshot, &output) {
        eprintln!("rdsguard-gen: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "rdsguard-gen: wrote {} DB instances in {} regions to {}",
        snapshot.db_instance_count(),
        params.regions,
        output.display()
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn parses_every_flag() {
        let (p, out) = parse_args(args(&[
            "--instances",
            "500",
            "--regions",
            "2",
            "--seed",
            "7",
            "-o",
            "x.json",
        ]))
        .unwrap();
        assert_eq!((p.db_instances, p.regions, p.seed), (500, 2, 7));
        assert_eq!(out, PathBuf::from("x.json"));
    }

    #[test]
    fn rejects_bad_input_with_a_message() {
        let err = parse_args(args(&["--instances", "many", "-o", "x"])).unwrap_err();
        assert!(err.contains("non-negative integer"), "{err}");
        let err = parse_args(args(&["-o", "x"])).unwrap_err();
        assert!(err.contains("--instances is required"), "{err}");
        let err = parse_args(args(&["--instances", "5", "--regions", "0", "-o", "x"])).unwrap_err();
        assert!(err.contains("between 1 and"), "{err}");
        let err = parse_args(args(&["--instances"])).unwrap_err();
        assert!(err.contains("needs a value"), "{err}");
        let err = parse_args(args(&["--bogus"])).unwrap_err();
        assert!(err.contains("unknown argument"), "{err}");
    }
}

//! `rdsguard-gen`: write a synthetic snapshot of a large account, for benchmarks and scale
//! tests.
//!
//! ```text
//! rdsguard-gen --instances 100000 [--regions 4] [--seed 1] -o big.json
//! rdsguard-gen --accounts 2000 --instances 10 [--ous 8] [--unassessed-every 50] -o org.json.gz
//! ```
//!
//! With `--accounts`, an organization: `--instances` is then per account (see
//! `rdsguard_demo::synthetic_org`). A name ending in `.gz` is written gzip-compressed.

use std::path::PathBuf;
use std::process::ExitCode;

use rdsguard_demo::{SyntheticOrgParams, SyntheticParams, synthetic, synthetic_org};

const USAGE: &str = "usage: rdsguard-gen --instances N [--regions R] [--seed S] \
                     [--accounts A [--ous O] [--unassessed-every K] [--shard I/N]] -o FILE.json[.gz]";

/// Organization options (`--accounts` and the flags that only make sense with it).
#[derive(Debug, Default, PartialEq)]
struct OrgFlags {
    accounts: Option<usize>,
    ous: Option<usize>,
    unassessed_every: Option<usize>,
    /// Keep only the accounts of shard I of N (the `collect --org --shard` rule: id mod N).
    shard: Option<(u64, u64)>,
}

/// The single-account part of [`parse_all`].
#[cfg(test)]
fn parse_args(args: impl Iterator<Item = String>) -> Result<(SyntheticParams, PathBuf), String> {
    parse_all(args).map(|(p, _, o)| (p, o))
}

fn parse_all(
    args: impl Iterator<Item = String>,
) -> Result<(SyntheticParams, OrgFlags, PathBuf), String> {
    let mut org = OrgFlags::default();
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
            "--accounts" => {
                org.accounts = Some(number("--accounts", value("--accounts")?)? as usize)
            }
            "--ous" => org.ous = Some(number("--ous", value("--ous")?)? as usize),
            "--shard" => {
                let text = value("--shard")?;
                let parsed = text
                    .split_once('/')
                    .and_then(|(i, n)| Some((i.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
                    .filter(|(i, n)| i < n);
                org.shard =
                    Some(parsed.ok_or_else(|| {
                        format!("--shard expects I/N with 0 <= I < N, got `{text}`")
                    })?);
            }
            "--unassessed-every" => {
                org.unassessed_every =
                    Some(number("--unassessed-every", value("--unassessed-every")?)? as usize)
            }
            "--output" | "-o" => output = Some(PathBuf::from(value("--output")?)),
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let instances = instances.ok_or_else(|| format!("--instances is required\n{USAGE}"))?;
    params.db_instances = usize::try_from(instances)
        .map_err(|_| format!("--instances {instances} is too large for this platform"))?;
    let output = output.ok_or_else(|| format!("-o FILE is required\n{USAGE}"))?;
    if org.accounts.is_none()
        && (org.ous.is_some() || org.unassessed_every.is_some() || org.shard.is_some())
    {
        return Err(format!(
            "--ous, --unassessed-every and --shard need --accounts\n{USAGE}"
        ));
    }
    Ok((params, org, output))
}

fn main() -> ExitCode {
    let (params, org, output) = match parse_all(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("rdsguard-gen: {message}");
            return ExitCode::from(2);
        }
    };
    let mut snapshot = match org.accounts {
        None => synthetic(&params),
        Some(accounts) => {
            let defaults = SyntheticOrgParams::default();
            synthetic_org(&SyntheticOrgParams {
                accounts,
                db_instances_per_account: params.db_instances,
                regions: params.regions,
                ous: org.ous.unwrap_or(defaults.ous),
                unassessed_every: org.unassessed_every.unwrap_or(defaults.unassessed_every),
                seed: params.seed,
                collected_at: params.collected_at.clone(),
            })
        }
    };
    if let Some((index, count)) = org.shard {
        snapshot.accounts.retain(|a| {
            a.account_id
                .parse::<u64>()
                .is_ok_and(|id| id % count == index)
        });
    }
    if let Err(e) = rdsguard_model::io::write_snapshot(&snapshot, &output) {
        eprintln!("rdsguard-gen: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "rdsguard-gen: wrote {} DB instances in {} account(s), {} regions each, to {}",
        snapshot.db_instance_count(),
        snapshot.accounts.len(),
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
    fn parses_organization_flags() {
        let (p, org, _) = parse_all(args(&[
            "--accounts",
            "2000",
            "--instances",
            "10",
            "--ous",
            "5",
            "--unassessed-every",
            "40",
            "-o",
            "org.json.gz",
        ]))
        .unwrap();
        assert_eq!(p.db_instances, 10);
        assert_eq!(
            org,
            OrgFlags {
                accounts: Some(2000),
                ous: Some(5),
                unassessed_every: Some(40),
                shard: None,
            }
        );
        let err = parse_all(args(&["--instances", "1", "--ous", "2", "-o", "x"])).unwrap_err();
        assert!(err.contains("need --accounts"), "{err}");
        let (_, org, _) = parse_all(args(&[
            "--accounts",
            "10",
            "--instances",
            "1",
            "--shard",
            "2/4",
            "-o",
            "x",
        ]))
        .unwrap();
        assert_eq!(org.shard, Some((2, 4)));
        let err = parse_all(args(&[
            "--accounts",
            "10",
            "--instances",
            "1",
            "--shard",
            "4/4",
            "-o",
            "x",
        ]))
        .unwrap_err();
        assert!(err.contains("0 <= I < N"), "{err}");
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

//! `rdsguard merge`: join snapshots (the shards of an organization scan run in parallel, or
//! single-account snapshots) into one, streamed in and out.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rdsguard_model::io::{Merger, Reading, read_snapshot_as, write_snapshot};

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Snapshot files to join (.json or .json.gz), all of the same schema version. The same
    /// account in two files is accepted only when both copies are identical.
    #[arg(required = true, num_args = 1.., value_name = "SNAPSHOT")]
    pub inputs: Vec<PathBuf>,
    /// Merged snapshot to write (mode 0600); a name ending in .gz is written compressed.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    // One file at a time: each is moved into the result as soon as it is read.
    let mut merger = Merger::default();
    for path in &args.inputs {
        // Streamed: a merge holds its result and one input, not the input's text as well.
        let snapshot = read_snapshot_as(path, Reading::Streamed)?;
        merger
            .add(path.clone(), snapshot)
            .context("cannot merge the snapshots")?;
    }
    let merged = merger.finish().context("nothing to merge")?;
    write_snapshot(&merged, &args.output)?;
    let unassessed = merged
        .accounts
        .iter()
        .filter(|a| a.regions.is_empty() && !a.gaps.is_empty())
        .count();
    eprintln!(
        "wrote {} ({} account(s) from {} file(s){}); audit it with: rdsguard audit --snapshot {}",
        args.output.display(),
        merged.accounts.len(),
        args.inputs.len(),
        if unassessed > 0 {
            format!(", {unassessed} not assessed")
        } else {
            String::new()
        },
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

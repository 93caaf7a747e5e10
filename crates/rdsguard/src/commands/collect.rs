//! `rdsguard collect`: write a snapshot for later offline audits.

use std::process::ExitCode;

use crate::cli::CollectArgs;

pub fn run(args: CollectArgs) -> anyhow::Result<ExitCode> {
    let snapshot = crate::source::collect(&args.live, &args.org)?;
    rdsguard_model::io::write_snapshot(&snapshot, &args.output)?;
    eprintln!(
        "wrote {} (audit it offline with: rdsguard audit --snapshot {})",
        args.output.display(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

//! `rdsguard exposure`: who can reach each database, and through what.

use std::process::ExitCode;

use crate::cli::{ExposureArgs, OutputFormat};

pub fn run(args: ExposureArgs) -> anyhow::Result<ExitCode> {
    let snapshot = crate::source::obtain(&args.source)?;
    let report = match &args.db {
        Some(db) => rdsguard_network::analyze_db(&snapshot, db)?,
        None => rdsguard_network::analyze(&snapshot),
    };
    let text = match args.format {
        OutputFormat::Table => rdsguard_network::render_table(&report),
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report)?;
            s.push('\n');
            s
        }
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

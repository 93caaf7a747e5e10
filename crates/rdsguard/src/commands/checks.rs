//! `rdsguard checks`: the catalogue.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::cli::{ChecksArgs, OutputFormat};

pub fn run(args: ChecksArgs) -> anyhow::Result<ExitCode> {
    let catalogue = rdsguard_checks::catalogue();
    let text = match args.format {
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(&catalogue)?;
            s.push('\n');
            s
        }
        OutputFormat::Table => {
            let mut s = String::new();
            let id_width = catalogue.iter().map(|c| c.id.len()).max().unwrap_or(0);
            for c in &catalogue {
                let mut controls: Vec<String> = c
                    .compliance
                    .fsbp
                    .iter()
                    .map(|x| format!("FSBP {x}"))
                    .collect();
                controls.extend(c.compliance.cis.iter().map(|x| format!("CIS {x}")));
                let _ = writeln!(
                    s,
                    "{:<id_width$}  {:<13}  {}{}",
                    c.id,
                    c.severity.as_str(),
                    c.title,
                    if controls.is_empty() {
                        String::new()
                    } else {
                        format!("  [{}]", controls.join(", "))
                    }
                );
            }
            let _ = writeln!(s, "{} checks", catalogue.len());
            s
        }
    };
    crate::output::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

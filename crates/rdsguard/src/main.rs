//! rdsguard: the command-line front end. Thin by design: parsing, choosing the data source,
//! and printing; the work happens in the library crates (collect → model → checks → report).

mod cli;
mod commands;
mod output;
#[cfg(feature = "live")]
mod progress;
mod source;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

// Where jemalloc builds: faster than the system allocator on the analysis' many small
// allocations (BENCHMARKS.md, "The allocator").
#[cfg(all(feature = "jemalloc", unix, not(target_os = "openbsd")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Exit code for usage and runtime errors (1 is reserved for "findings at or above --fail-on").
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(args) => commands::audit::run(args),
        Command::Collect(args) => commands::collect::run(args),
        Command::Checks(args) => commands::checks::run(args),
        Command::Exposure(args) => commands::exposure::run(args),
        Command::Trail(args) => commands::trail::run(args),
        Command::WhoCan(args) => commands::iam::who_can(args),
        Command::Can(args) => commands::iam::can(args),
        Command::Iam(cmd) => commands::iam::iam(cmd),
        Command::Diff(args) => commands::diff::run(args),
        Command::Fix(args) => commands::fix::run(*args),
        Command::Merge(args) => commands::merge::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let color = output::stderr_color();
            let label = if color {
                "\x1b[1;31merror\x1b[0m"
            } else {
                "error"
            };
            eprintln!("{label}: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

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
// allocations (BENCHMARKS.md, "The allocator"). Its options (huge pages) are compiled into it
// from `.cargo/config.toml`.
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

#[cfg(all(test, feature = "jemalloc", unix, not(target_os = "openbsd")))]
mod allocator_tests {
    use std::ffi::{CStr, c_char};

    /// A string option of jemalloc (`opt.*`), read with `mallctl`.
    fn jemalloc_text_option(name: &CStr) -> Option<String> {
        let mut value: *const c_char = std::ptr::null();
        let mut len = size_of::<*const c_char>();
        // SAFETY: `name` ends with NUL; for a string option jemalloc writes a pointer (of
        // `len` bytes) to a NUL-terminated text it keeps for the life of the process.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                (&raw mut value).cast(),
                &raw mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc != 0 || value.is_null() {
            return None;
        }
        // SAFETY: as above, a NUL-terminated text that lives as long as the process.
        let text = unsafe { CStr::from_ptr(value) };
        Some(text.to_string_lossy().into_owned())
    }

    /// The options of `.cargo/config.toml` reach the allocator (a build outside the workspace,
    /// or a build script that no longer reads them, would lose them silently): huge pages for
    /// the memory of large snapshots and analyses.
    ///
    /// Where the system has no transparent huge pages (no `MADV_HUGEPAGE`, or no
    /// `/sys/kernel/mm/transparent_hugepage`), jemalloc reports `not supported` for `opt.thp`
    /// whatever it was asked; a build without the setting reports `default`.
    #[test]
    fn jemalloc_is_built_to_ask_for_huge_pages() {
        let hint = "set _RJEM_MALLOC_CONF in the environment? it overrides the built-in options";
        let thp = jemalloc_text_option(c"opt.thp");
        assert!(
            matches!(thp.as_deref(), Some("always" | "not supported")),
            "opt.thp is {thp:?}; {hint}"
        );
        assert_eq!(
            jemalloc_text_option(c"opt.metadata_thp").as_deref(),
            Some("always"),
            "{hint}"
        );
    }
}

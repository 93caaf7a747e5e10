//! Where output goes: standard output, or a private file; colours only on a terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

/// Colours on standard output: a terminal, and NO_COLOR unset (https://no-color.org).
pub fn stdout_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Colours on standard error, by the same rule.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Let `write` write to `path` (mode 0600) or to standard output, buffered: for outputs too
/// large to build in memory first.
pub fn emit_with(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    const BUFFER: usize = 1 << 20;
    match path {
        Some(p) => {
            let f = rdsguard_model::io::create_private(p)
                .with_context(|| format!("cannot create {}", p.display()))?;
            let mut w = std::io::BufWriter::with_capacity(BUFFER, f);
            write(&mut w)
                .and_then(|_| w.flush())
                .with_context(|| format!("cannot write {}", p.display()))
        }
        None => {
            let stdout = std::io::stdout().lock();
            let mut w = std::io::BufWriter::with_capacity(BUFFER, stdout);
            // A closed pipe (`rdsguard audit | head`) is not an error worth reporting.
            match write(&mut w).and_then(|_| w.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to standard output"),
            }
        }
    }
}

/// Write `text` to `path` (mode 0600) or to standard output.
pub fn emit(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        Some(p) => {
            let mut f = rdsguard_model::io::create_private(p)
                .with_context(|| format!("cannot create {}", p.display()))?;
            f.write_all(text.as_bytes())
                .with_context(|| format!("cannot write {}", p.display()))?;
            Ok(())
        }
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`rdsguard audit | head`) is not an error worth reporting.
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to standard output"),
            }
        }
    }
}
